// One endpoint: its settings and health; its signing secret once after it was made or rotated; edit, disable or
// enable, rotate the secret, delete; a test event; its deliveries with every attempt (filtered by status, refreshed
// as their outcomes stream in, each redeliverable) and recovery of its failed deliveries since a time.
import { busy, h, replace, route, timeEl } from "./dom.js";
import { deliveryList } from "./deliveries.js";
import { confirmDialog } from "./dialog.js";
import { errorBox } from "./errors.js";
import { health, stateBadge } from "./format.js";
import { recoverForm } from "./recover.js";
import { secretPanel } from "./secret.js";
import { testEventForm } from "./test-event.js";

/** @typedef {import("./portal.js").Ctx} Ctx */

const FILTERS = [
  ["", "All"],
  ["DELIVERY_STATUS_FAILED", "Failed"],
  ["DELIVERY_STATUS_PENDING", "Pending"],
  ["DELIVERY_STATUS_DELIVERED", "Delivered"],
];

/** Extra headers, names only: their values are a customer's tokens, masked as every answer but one masks them. @param {Record<string, string> | undefined} headers */
function headerList(headers) {
  const names = Object.keys(headers ?? {});
  if (names.length === 0) return h("span", { class: "muted" }, "none");
  return h(
    "ul",
    { class: "headers" },
    names.map((name) => h("li", { "data-header": name }, h("code", {}, name), ": ", h("span", { class: "masked", "aria-label": "value hidden" }, "••••••••"))),
  );
}

/** @param {ReturnType<typeof health>} hl */
function healthFacts(hl) {
  return h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Success rate"),
    h("dd", { class: "rate" }, hl.rateText),
    h("dt", {}, "Last success"),
    h("dd", {}, timeEl(hl.lastSuccessAt)),
    h("dt", {}, "Last failure"),
    h("dd", {}, timeEl(hl.lastFailureAt), hl.lastError && h("span", { class: "error-text" }, ` ${hl.lastError}`)),
    h("dt", {}, "Failing since"),
    h("dd", {}, timeEl(hl.failingSince), hl.failingSince ? ` (${hl.consecutiveFailures} failed in a row)` : ""),
  );
}

/** @param {Ctx} ctx @param {HTMLElement} view @param {string} id */
export function endpointPage(ctx, view, id) {
  const heading = h("h1", { tabindex: "-1", class: "endpoint-title" }, "Endpoint");
  const secretSlot = h("div", {});
  const head = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const healthSlot = h("section", { class: "health-panel", "aria-labelledby": "health-heading" });
  const actionError = h("div", {});
  const toggle = h("button", { type: "button", class: "secondary", id: "toggle-endpoint" }, "Disable");
  const rotate = h("button", { type: "button", class: "secondary", id: "rotate-secret" }, "Rotate secret");
  const remove = h("button", { type: "button", class: "danger", id: "delete-endpoint" }, "Delete");
  const edit = h("a", { href: route("endpoints", id, "edit"), class: "button secondary", id: "edit-endpoint" }, "Edit");
  const actions = h("div", { class: "actions", role: "group", "aria-label": "Endpoint actions" }, edit, toggle, rotate, remove);
  const testSlot = h("div", {});
  const filter = h("select", { id: "delivery-filter", name: "status" }, FILTERS.map(([v, t]) => h("option", { value: v }, t)));
  const listSlot = h("div", {});
  const recoverSlot = h("div", {});
  const body = h("div", { hidden: true }, actions, actionError, head, healthSlot, testSlot, h("h2", {}, "Deliveries"), h("div", { class: "filter" }, h("label", { for: "delivery-filter" }, "Show"), filter), listSlot, recoverSlot);
  view.replaceChildren(h("a", { href: "#/", class: "back" }, "← Endpoints"), heading, secretSlot, body);

  // A secret just made (Register, here from the form) is shown once: it is not kept anywhere.
  const handed = ctx.takeSecret(id);
  if (handed) showSecret(handed.secret, handed.rotated);

  /** @param {string} secret @param {boolean} rotated */
  function showSecret(secret, rotated) {
    replace(
      secretSlot,
      secretPanel({
        secret,
        heading: rotated ? "New signing secret" : "Signing secret",
        note: rotated
          ? "Copy it now: it is shown only this once. The previous secret keeps signing each webhook beside this one for 24 hours, so your endpoint can switch without missing any."
          : "Copy it now: it is shown only this once. Your endpoint uses it to check that each webhook comes from us (the webhook-signature header, Standard Webhooks).",
      }),
    );
  }

  /** @type {any} */
  let sub = {};
  /** @param {any} s */
  function showSubscription(s) {
    sub = s;
    replace(heading, h("span", { class: "url" }, s.url ?? ""), " ", stateBadge(s));
    toggle.textContent = s.disabled ? "Enable" : "Disable";
    toggle.dataset.action = s.disabled ? "enable" : "disable";
    replace(
      head,
      h(
        "dl",
        { class: "facts" },
        [
          ["Events", (s.events ?? []).map((/** @type {string} */ e) => h("code", { class: "event-pattern" }, e))],
          ["Description", s.description || "—"],
          ["Rate limit", s.rateLimitPerSecond ? `${s.rateLimitPerSecond} requests a second` : "none"],
          ["Headers", headerList(s.headers)],
          ["Created", timeEl(s.createdAt)],
          s.disabled ? ["Disabled because", s.disabledReason || "disabled by you"] : undefined,
        ]
          .filter((x) => x !== undefined)
          .map(([t, v]) => [h("dt", {}, t), h("dd", {}, v)]),
      ),
    );
    const hl = health(s);
    healthSlot.className = `health-panel ${hl.level}`;
    healthSlot.dataset.health = hl.level;
    replace(healthSlot, h("h2", { id: "health-heading" }, "Health"), healthFacts(hl));
  }

  /** @type {{ reload: () => Promise<void> } | undefined} */
  let list;
  const showList = () => {
    const status = filter.value;
    const dl = deliveryList(ctx, {
      load: (pageToken) => ctx.call("ListDeliveries", { subscriptionId: id, pageSize: 25, pageToken, ...(status ? { status } : {}) }),
      empty: status ? "No deliveries in that state." : "No deliveries yet: send a test event to see one.",
      show: { message: false, subscription: false, requestBody: true },
    });
    list = dl;
    replace(listSlot, dl.el);
  };
  filter.addEventListener("change", showList);

  /** @type {ReturnType<typeof testEventForm> | undefined} */
  let test;
  let left = false;
  ctx
    .call("GetSubscription", { id })
    .then((res) => {
      if (left) return;
      showSubscription(res.subscription ?? {});
      body.hidden = false;
      test = testEventForm(ctx, sub);
      replace(testSlot, test.el);
      replace(recoverSlot, recoverForm(ctx, id, () => list?.reload()));
      showList();
    })
    .catch((err) => {
      if (left) return;
      replace(head, errorBox(err));
      actions.hidden = true;
      body.hidden = false;
    });

  /** One action at a time per button; a failure shown above the settings. @param {HTMLButtonElement} button @param {() => Promise<void>} work */
  function act(button, work) {
    return busy(button, async () => {
      replace(actionError);
      try {
        await work();
      } catch (err) {
        replace(actionError, errorBox(err));
      }
    });
  }

  toggle.addEventListener("click", () =>
    act(toggle, async () => {
      const disabled = !sub.disabled;
      const res = await ctx.call("UpdateSubscription", { id, disabled });
      showSubscription(res.subscription ?? { ...sub, disabled });
      ctx.notify(disabled ? "Endpoint disabled: it gets no new events until you enable it." : "Endpoint enabled.");
    }),
  );
  rotate.addEventListener("click", () =>
    act(rotate, async () => {
      const ok = await confirmDialog({
        title: "Rotate the signing secret?",
        text: "You get a new secret, shown once. The current one keeps signing webhooks beside it for 24 hours, then stops.",
        confirm: "Rotate secret",
      });
      if (!ok) return;
      const res = await ctx.call("RotateSecret", { id });
      if (res.subscription) showSubscription(res.subscription);
      showSecret(res.secret ?? "", true);
      ctx.notify("Secret rotated. Copy the new one now.");
      /** @type {HTMLElement | null} */ (secretSlot.querySelector("h2"))?.focus();
    }),
  );
  remove.addEventListener("click", () =>
    act(remove, async () => {
      const ok = await confirmDialog({
        title: "Delete this endpoint?",
        text: [h("span", { class: "url" }, sub.url ?? id), " stops getting webhooks at once, and this cannot be undone."],
        confirm: "Delete endpoint",
        danger: true,
      });
      if (!ok) return;
      await ctx.call("DeleteSubscription", { id });
      ctx.notify("Endpoint deleted.");
      location.hash = "#/";
    }),
  );

  // Outcomes of this endpoint refresh its deliveries and its health, a burst of them once.
  let timer = 0;
  const off = ctx.live.onDelivery((d) => {
    if (d.subscriptionId !== id) return;
    clearTimeout(timer);
    timer = window.setTimeout(() => {
      void list?.reload();
      ctx
        .call("GetSubscription", { id })
        .then((res) => !left && res.subscription && showSubscription(res.subscription))
        .catch(() => undefined);
    }, 300);
  });
  return () => {
    left = true;
    off();
    clearTimeout(timer);
    test?.stop();
  };
}
