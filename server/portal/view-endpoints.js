// The customer's endpoints (the server answers only the session owner's), each with its events, state and health.
import { h, route, timeEl } from "./dom.js";
import { health, stateBadge } from "./format.js";
import { loadMore } from "./load-more.js";

/** @typedef {import("./portal.js").Ctx} Ctx */

/** @param {Ctx} ctx @param {HTMLElement} view */
export function endpointsPage(ctx, view) {
  const body = h("tbody", {});
  const status = h("div", { class: "list-status" });
  const table = h(
    "table",
    { class: "endpoints" },
    h("caption", { class: "visually-hidden" }, "Your endpoints"),
    h("thead", {}, h("tr", {}, ["Endpoint", "Events", "State", "Success rate", "Last failure"].map((t) => h("th", { scope: "col" }, t)))),
    body,
  );
  const pages = loadMore(status, async (pageToken) => {
    const res = await ctx.call("ListSubscriptions", { pageSize: 50, pageToken });
    for (const s of res.subscriptions ?? []) body.append(endpointRow(s));
    table.hidden = body.childElementCount === 0;
    return { next: res.nextPageToken ?? "", note: body.childElementCount ? "" : h("p", { class: "muted empty" }, "No endpoints yet. Add one to start receiving webhooks.") };
  });
  table.hidden = true;
  view.replaceChildren(
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Endpoints"), h("a", { href: "#/new", class: "button", id: "add-endpoint" }, "Add endpoint")),
    h("p", { class: "muted" }, "The URLs we send your webhooks to: each gets a signed POST for every event it subscribes to."),
    status,
    table,
    pages.more,
  );
  void pages.load();
  return () => undefined;
}

/** @param {any} s */
function endpointRow(s) {
  const hl = health(s);
  return h(
    "tr",
    { "data-subscription-id": s.id },
    h("th", { scope: "row", class: "endpoint" }, h("a", { href: route("endpoints", s.id), class: "url" }, s.url), s.description && h("div", { class: "muted" }, s.description)),
    h("td", {}, (s.events ?? []).map((/** @type {string} */ e) => h("code", { class: "event-pattern" }, e))),
    h("td", {}, stateBadge(s), s.disabled && s.disabledReason && h("div", { class: "reason" }, s.disabledReason)),
    h("td", { class: `health ${hl.level}`, "data-health": hl.level }, hl.rateText),
    h("td", {}, hl.lastFailureAt ? [timeEl(hl.lastFailureAt), hl.lastError && h("div", { class: "error-text" }, hl.lastError)] : h("span", { class: "muted" }, "—")),
  );
}
