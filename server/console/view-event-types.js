// The tenant's event type catalog, read-only: each type's name, whether its payloads are checked and what
// it means, and (opened) its JSON Schema and example. Hookwire's own operational events are marked
// built-in. Changes go through the API, the SDK or `hookwire event-types`.
import { h, replace, timeEl } from "./dom.js";
import { loadMore } from "./load-more.js";

/** @typedef {import("./app.js").Ctx} Ctx */

/** @param {Ctx} ctx @param {HTMLElement} view */
export function eventTypesPage(ctx, view) {
  const list = h("div", { class: "event-types" });
  const status = h("div", {});
  const pages = loadMore(status, async (pageToken) => {
    const res = await ctx.call("ListEventTypes", { pageSize: 50, pageToken });
    for (const e of res.eventTypes ?? []) list.append(eventTypeCard(e));
    return { next: res.nextPageToken ?? "" };
  });
  replace(
    view,
    h("h1", {}, "Event types"),
    h("p", { class: "muted" }, "The tenant's catalog, in name order. A Trigger of an event whose type has a schema is checked against it; events without one are not. Change the catalog with the API, the SDK or hookwire event-types."),
    status,
    list,
    pages.more,
  );
  void pages.load();
  return () => undefined;
}

/** @param {string} title @param {unknown} value @param {string} none */
function jsonSection(title, value, none) {
  return [h("h3", {}, title), value === undefined ? h("p", { class: "muted" }, none) : h("pre", { class: `payload ${title.toLowerCase()}` }, JSON.stringify(value, null, 2))];
}

/** @param {any} e */
function eventTypeCard(e) {
  const checked = e.schema !== undefined;
  return h(
    "details",
    { class: "event-type", "data-name": e.name, "data-builtin": e.builtin ? "true" : "false" },
    h(
      "summary",
      {},
      h("code", { class: "event-name" }, e.name),
      h("span", { class: `schema-state ${checked ? "checked" : "unchecked"}` }, checked ? "schema" : "no schema"),
      h("span", { class: "description" }, e.description || "—", e.builtin && h("span", { class: "badge builtin" }, "built-in")),
    ),
    h(
      "div",
      { class: "event-type-body" },
      !e.builtin && h("dl", { class: "facts" }, h("dt", {}, "Created"), h("dd", {}, timeEl(e.createdAt)), h("dt", {}, "Updated"), h("dd", {}, timeEl(e.updatedAt))),
      jsonSection("Schema", e.schema, "None: payloads of this event are not checked."),
      jsonSection("Example", e.example, "None."),
    ),
  );
}
