// A test event to one endpoint (SendTestEvent): an event of the catalog, with its example payload to start from
// (editable JSON), and its delivery followed as its outcome arrives on the portal's live stream.
import { busy, duration, h, replace, timeEl } from "./dom.js";
import { errorBox } from "./errors.js";
import { attemptOutcome, statusBadge, statusName } from "./format.js";
import { RpcError } from "./rpc.js";

/** @typedef {import("./portal.js").Ctx} Ctx */

/** The subscription's patterns take the event (as the server matches them). @param {string[]} patterns @param {string} name */
function matches(patterns, name) {
  return patterns.some((p) => p === "*" || p === name || (p.endsWith(".*") && name.startsWith(p.slice(0, -1))));
}

/** @param {unknown} v */
const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/** @param {Ctx} ctx @param {any} sub @returns {{ el: HTMLElement, stop: () => void }} */
export function testEventForm(ctx, sub) {
  const patterns = /** @type {string[]} */ (sub.events ?? []);
  const eventSlot = h("div", { class: "field", "data-field": "event" }, h("p", { class: "muted" }, "Reading the event catalog…"));
  const eventError = h("p", { class: "field-error", id: "t-event-error", hidden: true });
  const payload = h("textarea", { id: "t-payload", name: "payload", rows: "6", spellcheck: "false", autocomplete: "off", "aria-describedby": "t-payload-hint t-payload-error" });
  const payloadHint = h("p", { class: "hint", id: "t-payload-hint" }, "A JSON object: the event's example from the catalog, which you may change.");
  const payloadError = h("p", { class: "field-error", id: "t-payload-error", hidden: true });
  const send = h("button", { type: "submit" }, "Send test event");
  const formError = h("div", { class: "form-error" });
  const result = h("div", { class: "test-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "test-event", novalidate: true, "aria-labelledby": "t-heading" },
    h("h2", { id: "t-heading" }, "Send a test event"),
    h("p", { class: "muted" }, "Sent to this endpoint only, signed like every webhook, whatever events it subscribes to."),
    eventSlot,
    h("div", { class: "field", "data-field": "payload" }, h("label", { for: "t-payload" }, "Payload"), payload, payloadHint, payloadError),
    formError,
    h("div", { class: "form-actions" }, send),
    result,
  );

  /** @type {HTMLSelectElement | HTMLInputElement} */
  let eventControl = h("input", { type: "text", id: "t-event", name: "event", autocomplete: "off", spellcheck: "false", placeholder: "order.created", "aria-describedby": "t-event-error" });
  /** @type {Map<string, unknown>} */
  const examples = new Map();
  let prefilled = "";
  const prefill = () => {
    const ex = examples.get(eventControl.value);
    prefilled = ex === undefined ? "{}" : JSON.stringify(ex, null, 2);
    payload.value = prefilled;
  };
  ctx
    .catalog()
    .catch(() => /** @type {any[]} */ ([]))
    .then((types) => {
      for (const t of types) if (t.example !== undefined) examples.set(t.name, t.example);
      // The catalog's events this endpoint takes come first, then its own exact names the catalog lacks, then the rest.
      const names = [
        ...types.map((t) => t.name).filter((n) => matches(patterns, n)),
        ...patterns.filter((p) => p !== "*" && !p.endsWith(".*") && !types.some((t) => t.name === p)),
        ...types.map((t) => t.name).filter((n) => !matches(patterns, n)),
      ];
      if (names.length) {
        eventControl = h(
          "select",
          { id: "t-event", name: "event", "aria-describedby": "t-event-error" },
          names.map((n) => h("option", { value: n }, n, matches(patterns, n) ? "" : " (not subscribed)")),
        );
        eventControl.addEventListener("change", prefill);
      }
      replace(eventSlot, h("label", { for: "t-event" }, "Event"), eventControl, eventError);
      prefill();
    });

  /** @param {HTMLElement} el @param {string} message @param {HTMLElement} control */
  const fieldError = (el, message, control) => {
    el.textContent = message;
    el.hidden = false;
    control.setAttribute("aria-invalid", "true");
    control.focus();
  };
  const clear = () => {
    for (const [el, control] of /** @type {[HTMLElement, HTMLElement][]} */ ([[eventError, eventControl], [payloadError, payload]])) {
      el.hidden = true;
      el.textContent = "";
      control.removeAttribute("aria-invalid");
    }
    replace(formError);
  };

  /** @type {() => void} */
  let untrack = () => undefined;

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void busy(send, sendTest);
  });

  async function sendTest() {
    clear();
    const event = eventControl.value.trim();
    const text = payload.value.trim();
    /** @type {unknown} */
    let body;
    if (text !== "") {
      try {
        body = JSON.parse(text);
      } catch (err) {
        return fieldError(payloadError, `payload: not JSON (${err instanceof Error ? err.message : String(err)})`, payload);
      }
      // The example as it is goes unset, so the server sends it whatever JSON it is; anything else is an object.
      if (!isObject(body)) {
        if (text === prefilled.trim()) body = undefined;
        else return fieldError(payloadError, "payload: must be a JSON object ({…})", payload);
      }
    }
    try {
      const res = await ctx.call("SendTestEvent", { subscriptionId: sub.id, event, ...(body === undefined ? {} : { payload: body }) });
      track(res.messageId ?? "", res.delivery ?? {});
    } catch (err) {
      if (err instanceof RpcError && /^payload\b/.test(err.message)) fieldError(payloadError, err.message, payload);
      else if (err instanceof RpcError && /^event\b/.test(err.message)) fieldError(eventError, err.message, eventControl);
      else replace(formError, errorBox(err));
    }
  }

  /** Shows the test's delivery and follows it until it is delivered or failed. @param {string} messageId @param {any} first */
  function track(messageId, first) {
    untrack();
    const row = h("div", { class: "test-delivery", "data-delivery-id": first.id ?? "", "data-message-id": messageId });
    /** @param {any} d */
    const show = (d) => {
      const attempts = d.attempts ?? [];
      const last = attempts[attempts.length - 1];
      const state = statusName(d.status);
      row.dataset.status = state;
      replace(
        row,
        statusBadge(d.status),
        " ",
        h("code", {}, d.event ?? ""),
        " ",
        state === "pending" && !last
          ? "Sent: waiting for your endpoint's answer…"
          : [
              h("span", { class: "outcome" }, attemptOutcome(last), last ? ` · ${duration(last.durationMs)}` : ""),
              attempts.length > 1 ? ` (attempt ${attempts.length})` : "",
              state === "pending" && d.nextAttemptAt ? " · next attempt " : "",
              state === "pending" && d.nextAttemptAt ? timeEl(d.nextAttemptAt) : "",
            ],
        h("div", { class: "muted" }, "Message ", h("code", {}, messageId), " (the webhook-id header)"),
      );
    };
    show(first);
    replace(result, row);
    // The outcome may have streamed in before the call answered.
    const early = ctx.live.recent.find((d) => d.id === first.id);
    if (early) show(early);
    const off = ctx.live.onDelivery((d) => {
      if (d.id === first.id) show(d);
    });
    // Without the stream (reconnecting), look now and then instead.
    const poll = setInterval(async () => {
      if (ctx.live.state === "live" || row.dataset.status !== "pending") return;
      try {
        const res = await ctx.call("ListDeliveries", { messageId, pageSize: 10 });
        const d = (res.deliveries ?? []).find((/** @type {any} */ x) => x.id === first.id);
        if (d) show(d);
      } catch {
        // the next look may do better
      }
    }, 3000);
    untrack = () => {
      off();
      clearInterval(poll);
    };
  }

  return { el: form, stop: () => untrack() };
}
