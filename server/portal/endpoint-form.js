// Adding an endpoint (Register) or changing one (UpdateSubscription): its URL, description, events (chosen from
// the catalog, with their descriptions, or given as patterns), extra headers and rate limit. The server is the one
// judge of every value: its INVALID_ARGUMENT message starts with the field's name, and is shown next to that field.
import { busy, h, replace, route } from "./dom.js";
import { errorBox } from "./errors.js";
import { RpcError } from "./rpc.js";

/** @typedef {import("./portal.js").Ctx} Ctx */

/** The request's field names (as the server's messages start) → the form's fields. */
const FIELD_OF = /** @type {Record<string, string>} */ ({
  url: "url",
  description: "description",
  events: "events",
  headers: "headers",
  clear_headers: "headers",
  rate_limit_per_second: "rate",
});

const NO_EVENTS = 'events: must list at least one event type ("*" for all)';
const RATE_MAX = 10_000;

/** @param {Ctx} ctx @param {HTMLElement} view @param {string | undefined} id the endpoint to edit; a new one when undefined */
export function endpointFormPage(ctx, view, id) {
  const heading = h("h1", { tabindex: "-1" }, id ? "Edit endpoint" : "Add an endpoint");
  const slot = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const back = id ? h("a", { href: route("endpoints", id), class: "back" }, "← Endpoint") : h("a", { href: "#/", class: "back" }, "← Endpoints");
  view.replaceChildren(back, heading, slot);
  let left = false;
  Promise.all([
    ctx.catalog().then(
      (types) => ({ types, error: undefined }),
      (/** @type {unknown} */ error) => ({ types: /** @type {any[]} */ ([]), error }),
    ),
    id ? ctx.call("GetSubscription", { id }).then((r) => r.subscription ?? {}) : Promise.resolve(undefined),
  ])
    .then(([catalog, sub]) => {
      if (!left) replace(slot, endpointForm(ctx, catalog, sub));
    })
    .catch((err) => {
      if (!left) replace(slot, errorBox(err));
    });
  return () => {
    left = true;
  };
}

/**
 * A labelled control with its hint and its error line, both read as its description.
 * @param {string} key @param {string} label @param {HTMLInputElement | HTMLTextAreaElement} control @param {string} [hint]
 */
function field(key, label, control, hint) {
  control.id = `f-${key}`;
  const hintEl = hint ? h("p", { class: "hint", id: `f-${key}-hint` }, hint) : undefined;
  const error = h("p", { class: "field-error", id: `f-${key}-error`, hidden: true });
  control.setAttribute("aria-describedby", [hintEl?.id, error.id].filter(Boolean).join(" "));
  return { el: h("div", { class: "field", "data-field": key }, h("label", { for: control.id }, label), control, hintEl, error), error };
}

/**
 * @param {Ctx} ctx
 * @param {{ types: any[], error: unknown }} catalog
 * @param {any} sub the endpoint being edited (GetSubscription: headers in plain text), or undefined for a new one
 */
function endpointForm(ctx, catalog, sub) {
  const editing = sub !== undefined;
  const had = new Set(sub?.events ?? []);
  const known = new Set(catalog.types.map((e) => e.name));

  const url = h("input", { type: "url", name: "url", inputmode: "url", autocomplete: "off", spellcheck: "false", placeholder: "https://example.com/webhooks", value: sub?.url ?? "" });
  const urlField = field("url", "Endpoint URL", url, "Where we send a POST for each event: an http or https URL your server answers.");
  const description = h("input", { type: "text", name: "description", maxlength: "512", autocomplete: "off", value: sub?.description ?? "" });
  const descriptionField = field("description", "Description (optional)", description, "For you: what this endpoint is.");

  // Events: "all", the catalog's types, and free patterns.
  /** @type {HTMLInputElement[]} */
  const boxes = [];
  /** @param {string} value @param {import("./dom.js").Children} label @param {string} [text] */
  const choice = (value, label, text) => {
    const i = boxes.length;
    const box = h("input", { type: "checkbox", name: "event", value, id: `ev-${i}`, checked: had.has(value), "aria-describedby": text ? `ev-${i}-desc` : undefined });
    boxes.push(box);
    return h("div", { class: "event-choice", "data-event": value }, box, h("label", { for: box.id }, label), text && h("p", { class: "hint", id: `ev-${i}-desc` }, text));
  };
  const patterns = h("input", {
    type: "text",
    name: "patterns",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "order.*, invoice.paid",
    value: (sub?.events ?? []).filter((/** @type {string} */ e) => e !== "*" && !known.has(e)).join(", "),
  });
  const patternsField = field("patterns", "Other events or patterns", patterns, 'Comma-separated: an event name, a prefix ending in ".*" (order.* is every order event), or "*" for every event.');
  const eventsError = h("p", { class: "field-error", id: "f-events-error", hidden: true });
  const events = h(
    "fieldset",
    { class: "events", "data-field": "events", "aria-describedby": "f-events-error" },
    h("legend", {}, "Events to send"),
    choice("*", "All events", "Every event, including ones added later."),
    catalog.error ? h("p", { class: "error-text" }, `The event catalog could not be read (${catalog.error instanceof Error ? catalog.error.message : String(catalog.error)}): give events below.`) : undefined,
    h("div", { class: "event-choices" }, catalog.types.map((e) => choice(e.name, h("code", {}, e.name), e.description || undefined))),
    patternsField.el,
    eventsError,
  );

  // Headers: name and value rows; values as password fields (a customer's tokens), shown on request.
  const rows = h("div", { class: "header-rows" });
  let shown = false;
  const showValues = h("button", { type: "button", class: "secondary", id: "show-header-values", "aria-pressed": "false" }, "Show values");
  const addHeader = h("button", { type: "button", class: "secondary", id: "add-header" }, "Add header");
  const headersError = h("p", { class: "field-error", id: "f-headers-error", hidden: true });
  const renumber = () =>
    [...rows.children].forEach((row, i) => {
      const [name, value, remove] = /** @type {HTMLElement[]} */ ([...row.querySelectorAll("input, button")]);
      name?.setAttribute("aria-label", `Header ${i + 1} name`);
      value?.setAttribute("aria-label", `Header ${i + 1} value`);
      remove?.setAttribute("aria-label", `Remove header ${i + 1}`);
    });
  /** @param {string} name @param {string} value */
  const addRow = (name, value) => {
    const n = h("input", { type: "text", name: "header-name", autocomplete: "off", spellcheck: "false", placeholder: "Authorization" });
    n.value = name;
    const v = h("input", { type: shown ? "text" : "password", name: "header-value", autocomplete: "off", spellcheck: "false", placeholder: "value" });
    v.value = value;
    const remove = h("button", { type: "button", class: "secondary" }, "Remove");
    const row = h("div", { class: "header-row" }, n, v, remove);
    remove.addEventListener("click", () => {
      const next = row.nextElementSibling ?? row.previousElementSibling;
      row.remove();
      renumber();
      // Focus stays in the list: the next row's name, else the Add button.
      (next?.querySelector("input") ?? addHeader).focus();
    });
    rows.append(row);
    renumber();
    return n;
  };
  for (const [name, value] of Object.entries(sub?.headers ?? {})) addRow(name, String(value));
  addHeader.addEventListener("click", () => addRow("", "").focus());
  showValues.addEventListener("click", () => {
    shown = !shown;
    showValues.setAttribute("aria-pressed", String(shown));
    showValues.textContent = shown ? "Hide values" : "Show values";
    for (const v of rows.querySelectorAll("input[name=header-value]")) /** @type {HTMLInputElement} */ (v).type = shown ? "text" : "password";
  });
  const headers = h(
    "fieldset",
    { class: "headers", "data-field": "headers", "aria-describedby": "f-headers-hint f-headers-error" },
    h("legend", {}, "Headers (optional)"),
    h("p", { class: "hint", id: "f-headers-hint" }, "Sent with every request, for example your own token for this endpoint. Stored encrypted."),
    rows,
    h("div", { class: "row-actions" }, addHeader, showValues),
    headersError,
  );

  const rate = h("input", { type: "number", name: "rate", min: "0", max: String(RATE_MAX), step: "1", inputmode: "numeric", value: String(sub?.rateLimitPerSecond ?? 0) });
  const rateField = field("rate", "Rate limit (requests a second)", rate, `At most this many requests a second to this endpoint, retries included (1 to ${RATE_MAX}); 0 for no limit.`);

  const submit = h("button", { type: "submit" }, editing ? "Save changes" : "Add endpoint");
  const cancel = h("a", { href: editing ? route("endpoints", sub.id) : "#/", class: "button secondary" }, "Cancel");
  const formError = h("div", { class: "form-error" });
  const form = h(
    "form",
    { id: "endpoint-form", class: "endpoint-form", novalidate: true },
    urlField.el,
    descriptionField.el,
    events,
    headers,
    rateField.el,
    formError,
    h("div", { class: "form-actions" }, submit, cancel),
  );

  const errors = /** @type {Record<string, { error: HTMLElement, focus: () => HTMLElement | null, mark: HTMLElement }>} */ ({
    url: { error: urlField.error, focus: () => url, mark: url },
    description: { error: descriptionField.error, focus: () => description, mark: description },
    events: { error: eventsError, focus: () => boxes[0] ?? patterns, mark: events },
    headers: { error: headersError, focus: () => rows.querySelector("input") ?? addHeader, mark: headers },
    rate: { error: rateField.error, focus: () => rate, mark: rate },
  });
  const clearErrors = () => {
    for (const f of Object.values(errors)) {
      f.error.hidden = true;
      f.error.textContent = "";
      f.mark.removeAttribute("aria-invalid");
    }
    replace(formError);
  };
  /** @param {string} key @param {string} message @param {HTMLElement | null} [focus] */
  const fieldError = (key, message, focus) => {
    const f = /** @type {(typeof errors)[string]} */ (errors[key]);
    f.error.textContent = message;
    f.error.hidden = false;
    f.mark.setAttribute("aria-invalid", "true");
    (focus ?? f.focus())?.focus();
  };
  /** The server's refusal next to its field when it names one, else above the buttons. @param {unknown} err */
  const showError = (err) => {
    const m = err instanceof RpcError ? /^([a-z_]+)(\[("(?:[^"\\]|\\.)*")\])?[:/[]/.exec(err.message) : null;
    const key = m ? FIELD_OF[/** @type {string} */ (m[1])] : undefined;
    if (key && err instanceof RpcError) {
      let focus = null;
      if (key === "headers" && m?.[3]) {
        // headers["X-Token"]: … names the row (names are compared ignoring case).
        let named = "";
        try {
          named = String(JSON.parse(m[3])).toLowerCase();
        } catch {
          named = "";
        }
        focus = /** @type {HTMLInputElement[]} */ ([...rows.querySelectorAll("input[name=header-name]")]).find((i) => i.value.trim().toLowerCase() === named) ?? null;
      }
      fieldError(key, err.message, focus);
      return;
    }
    replace(formError, errorBox(err));
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void busy(submit, save);
  });

  async function save() {
    clearErrors();
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    const typed = patterns.value.split(/[\s,]+/).filter((p) => p !== "");
    const eventList = [...new Set([...chosen, ...typed])];
    /** @type {Record<string, string>} */
    const headerMap = {};
    /** @type {Set<string>} */
    const seen = new Set();
    for (const row of rows.children) {
      const [n, v] = /** @type {HTMLInputElement[]} */ ([...row.querySelectorAll("input")]);
      const name = n?.value.trim() ?? "";
      const value = v?.value ?? "";
      if (name === "" && value === "") continue;
      // A map cannot carry one name twice: say so here, as the server would.
      if (seen.has(name.toLowerCase())) return fieldError("headers", `headers[${JSON.stringify(name)}]: is given twice (header names are compared ignoring case)`, n);
      seen.add(name.toLowerCase());
      headerMap[name] = value;
    }
    const rateText = rate.value.trim() || "0";
    if (!/^\d{1,9}$/.test(rateText)) return fieldError("rate", `rate_limit_per_second: "${rateText}" is not a whole number (0 to ${RATE_MAX})`);
    // UpdateSubscription keeps the events when the list is empty: refuse it here, in the server's words for Register.
    if (editing && eventList.length === 0) return fieldError("events", NO_EVENTS);
    try {
      const common = { url: url.value.trim(), description: description.value, events: eventList, rateLimitPerSecond: Number(rateText) };
      if (!editing) {
        const res = await ctx.call("Register", { ...common, headers: headerMap });
        const id = res.subscription?.id ?? "";
        ctx.handOver(id, res.secret ?? "", false);
        ctx.notify("Endpoint added. Copy its signing secret now: it is shown only this once.");
        location.hash = route("endpoints", id);
      } else {
        const hadHeaders = Object.keys(sub.headers ?? {}).length > 0;
        const change = Object.keys(headerMap).length ? { headers: headerMap } : hadHeaders ? { clearHeaders: true } : {};
        await ctx.call("UpdateSubscription", { id: sub.id, ...common, ...change });
        ctx.notify("Changes saved.");
        location.hash = route("endpoints", sub.id);
      }
    } catch (err) {
      showError(err);
    }
  }
  return form;
}
