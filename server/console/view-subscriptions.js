// The tenant's subscriptions with their health (all, or one owner's), and one subscription's page: its
// health, its deliveries (filtered by status, refreshed as its outcomes stream in) and recovery of its
// failed deliveries.
import { h, replace, route, timeEl } from "./dom.js";
import { health, stateBadge } from "./format.js";
import { deliveryList } from "./deliveries.js";
import { errorBox } from "./errors.js";
import { loadMore } from "./load-more.js";
import { recoverForm } from "./recover.js";
import { ORDERED, orderField, orderSelect } from "./order.js";

/** @typedef {import("./app.js").Ctx} Ctx */

/** @param {Ctx} ctx @param {HTMLElement} view */
export function subscriptionsPage(ctx, view) {
  const body = h("tbody", {});
  const status = h("div", {});
  const ownerInput = h("input", { type: "search", name: "owner", placeholder: "Owner (a customer's id)", "aria-label": "Owner", maxlength: "256" });
  const ownerForm = h("form", { class: "owner-filter", role: "search" }, ownerInput, h("button", { type: "submit", class: "secondary" }, "Filter"));
  let owner = "";
  const pages = loadMore(status, async (pageToken) => {
    const res = await ctx.call("ListSubscriptions", { pageSize: 50, pageToken, ...orderField(), ...(owner ? { owner } : {}) });
    for (const s of res.subscriptions ?? []) body.append(subscriptionRow(s));
    const none = owner ? "This owner has no subscriptions." : "No subscriptions yet: Register one with the SDK or the CLI.";
    return { next: res.nextPageToken ?? "", note: body.childElementCount ? "" : h("p", { class: "muted empty" }, none) };
  });
  const reorder = orderSelect(() => {
    replace(body);
    void pages.restart();
  });
  replace(
    view,
    h("h1", {}, "Subscriptions", reorder),
    ownerForm,
    status,
    h(
      "table",
      { class: "subscriptions" },
      h("thead", {}, h("tr", {}, ["Endpoint", "Owner", "Events", "State", "Success rate", "Last failure", "Failing since"].map((t) => h("th", t === "Success rate" ? { title: "Of the deliveries that finished in the last 24 h, the share that succeeded (after retries or not)" } : {}, t)))),
      body,
    ),
    pages.more,
  );
  // One owner's subscriptions (an exact id), or every one of the tenant's when the field is empty.
  ownerForm.addEventListener("submit", (e) => {
    e.preventDefault();
    owner = ownerInput.value;
    replace(body);
    void pages.restart();
  });
  void pages.load();
  return () => undefined;
}

/** @param {any} s */
function subscriptionRow(s) {
  const hl = health(s);
  return h(
    "tr",
    { "data-subscription-id": s.id },
    h("td", {}, h("a", { href: route("subscriptions", s.id), class: "url" }, s.url), s.description && h("div", { class: "muted" }, s.description)),
    h("td", { class: "owner" }, s.owner ? h("code", {}, s.owner) : h("span", { class: "muted" }, "tenant")),
    h("td", {}, (s.events ?? []).map((/** @type {string} */ e) => h("code", { class: "event-pattern" }, e))),
    h("td", {}, stateBadge(s), s.disabled && s.disabledReason && h("div", { class: "reason" }, s.disabledReason)),
    h("td", { class: `health ${hl.level}`, "data-health": hl.level }, hl.rateText),
    h("td", {}, hl.lastFailureAt ? [timeEl(hl.lastFailureAt), hl.lastError && h("div", { class: "error-text" }, hl.lastError)] : h("span", { class: "muted" }, "—")),
    h("td", {}, hl.failingSince ? [timeEl(hl.failingSince), h("div", { class: "muted" }, `${hl.consecutiveFailures} failed in a row`)] : h("span", { class: "muted" }, "—")),
  );
}

/**
 * A subscription's extra headers, names only: GetSubscription answers their values (a customer's tokens,
 * say), but a page on an operator's screen is no place for them, so none reaches the page.
 * @param {Record<string, string> | undefined} headers
 */
function headerList(headers) {
  const names = Object.keys(headers ?? {});
  if (names.length === 0) return h("span", { class: "muted" }, "none");
  return h(
    "ul",
    { class: "headers" },
    names.map((name) => h("li", { "data-header": name }, h("code", {}, name), ": ", h("span", { class: "masked", title: "sealed at rest; not shown" }, "••••••••"))),
  );
}

const FILTERS = [
  ["", "All"],
  ["DELIVERY_STATUS_PENDING", "Pending"],
  ["DELIVERY_STATUS_DELIVERED", "Delivered"],
  ["DELIVERY_STATUS_FAILED", "Failed"],
];

/** @param {Ctx} ctx @param {HTMLElement} view @param {string} id */
export function subscriptionPage(ctx, view, id) {
  const head = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const filter = h("select", { "aria-label": "Status", name: "status" }, FILTERS.map(([v, t]) => h("option", { value: v }, t)));
  const listSlot = h("div", {});
  replace(view, head, h("h2", {}, "Deliveries ", filter), listSlot);
  /** @type {{reload: () => Promise<void>} | undefined} */
  let list;
  const showList = () => {
    const status = filter.value;
    const dl = deliveryList(ctx, {
      load: (pageToken) => ctx.call("ListDeliveries", { subscriptionId: id, pageSize: 25, pageToken, ...orderField(), ...(status ? { status } : {}) }),
      empty: status ? "No deliveries in that state." : "No deliveries yet.",
      show: { subscription: false },
      order: ORDERED,
    });
    list = dl;
    replace(listSlot, dl.el);
  };
  filter.addEventListener("change", showList);

  ctx
    .call("GetSubscription", { id })
    .then((res) => {
      const s = res.subscription ?? {};
      const hl = health(s);
      replace(
        head,
        h("h1", {}, h("span", { class: "url" }, s.url), " ", stateBadge(s)),
        h(
          "dl",
          { class: "facts" },
          [
            ["Id", h("code", {}, s.id)],
            ["Owner", s.owner ? h("code", {}, s.owner) : "the tenant's own"],
            ["Events", (s.events ?? []).join(", ")],
            ["Description", s.description || "—"],
            ["Policy", `${s.retries ?? 0} retries, first after ${s.retryDelayMs ?? 0} ms, timeout ${s.timeoutMs ?? 0} ms`],
            ["Rate limit", s.rateLimitPerSecond ? `${s.rateLimitPerSecond} attempts a second (per Hookwire process)` : "none"],
            ["Headers", headerList(s.headers)],
            ["Created", timeEl(s.createdAt)],
            s.disabled ? ["Disabled because", s.disabledReason || "disabled by a caller"] : undefined,
          ]
            .filter((x) => x !== undefined)
            .map(([t, v]) => [h("dt", {}, t), h("dd", {}, v)]),
        ),
        h(
          "section",
          { class: `health-panel ${hl.level}`, "data-health": hl.level },
          h("h2", {}, "Health"),
          h(
            "dl",
            { class: "facts" },
            h("dt", {}, "Success rate"),
            h("dd", { class: "rate", title: "Of the deliveries that finished in the window, the share that succeeded: one that succeeded after retries is a success" }, hl.rateText),
            h("dt", {}, "Attempts"),
            h("dd", { class: "attempt-counts" }, hl.attemptsText),
            h("dt", {}, "Last success"),
            h("dd", {}, timeEl(hl.lastSuccessAt)),
            h("dt", {}, "Last failure"),
            h("dd", {}, timeEl(hl.lastFailureAt), hl.lastError && h("span", { class: "error-text" }, ` ${hl.lastError}`)),
            h("dt", {}, "Failing since"),
            h("dd", {}, timeEl(hl.failingSince), hl.failingSince ? ` (${hl.consecutiveFailures} failed in a row)` : ""),
          ),
        ),
        recoverForm(ctx, id, () => list?.reload()),
      );
    })
    .catch((err) => replace(head, errorBox(err)));
  showList();

  // Outcomes of this subscription refresh the list, a burst of them once.
  let timer = 0;
  const off = ctx.live.onDelivery((d) => {
    if (d.subscriptionId !== id) return;
    clearTimeout(timer);
    timer = window.setTimeout(() => void list?.reload(), 300);
  });
  return () => {
    off();
    clearTimeout(timer);
  };
}
