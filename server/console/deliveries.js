// A list of deliveries, each with every attempt, a Redeliver button once it is finished, and paging. Used by
// the console's message, subscription and failed pages and the portal's endpoint page; reloads keep the
// deliveries that were open open.
import { append, duration, h, num, replace, route, timeEl } from "./dom.js";
import { attemptOutcome, finished, statusBadge } from "./format.js";
import { errorBox } from "./errors.js";

/**
 * `show.message` and `show.subscription` link each delivery to its message's and subscription's console pages
 * (default on); `show.requestBody` shows, in an opened delivery, the body its attempts sent (the envelope, read
 * with GetMessage: a page with no message page of its own, the portal, shows it there).
 * @param {import("./rpc.js").Api} api
 * @param {{ load: (pageToken: string) => Promise<{deliveries?: any[], nextPageToken?: string}>, empty: string,
 *           show?: { message?: boolean, subscription?: boolean, requestBody?: boolean } }} opts
 */
export function deliveryList(api, { load, empty, show = {} }) {
  const list = h("div", { class: "deliveries" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  const status = h("div", { class: "list-status" });
  const el = h("section", { class: "delivery-list" }, status, list, more);
  /** @type {Set<string>} */
  const open = new Set();
  let token = "";
  let generation = 0;
  /** Request bodies read so far, by message id: a message does not change. @type {Map<string, Promise<any>>} */
  const bodies = new Map();

  /** @param {boolean} fresh */
  async function page(fresh) {
    const mine = ++generation;
    more.disabled = true;
    try {
      const res = await load(fresh ? "" : token);
      if (mine !== generation) return; // a newer load is under way
      const ds = res.deliveries ?? [];
      if (fresh) list.replaceChildren();
      append(list, ds.map((d) => deliveryCard(d)));
      token = res.nextPageToken ?? "";
      more.hidden = !token;
      replace(status, list.childElementCount ? "" : h("p", { class: "muted empty" }, empty));
    } catch (err) {
      if (mine !== generation) return;
      replace(status, errorBox(err));
      if (fresh) list.replaceChildren();
    } finally {
      more.disabled = false;
    }
  }

  /** @param {any} d */
  function deliveryCard(d) {
    const attempts = d.attempts ?? [];
    const last = attempts[attempts.length - 1];
    const body = show.requestBody ? h("div", { class: "request-body-slot" }, h("h3", {}, "Request body"), h("p", { class: "muted" }, "Loading…")) : undefined;
    const card = h(
      "details",
      { class: "delivery", "data-delivery-id": d.id, "data-status": d.status ?? "", open: open.has(d.id) },
      h(
        "summary",
        {},
        statusBadge(d.status),
        h("span", { class: "event" }, d.event || ""),
        h("span", { class: "url", title: d.url }, d.url || ""),
        h("span", { class: "outcome" }, attemptOutcome(last), last ? ` · ${duration(last.durationMs)}` : ""),
        h("span", { class: "count" }, `${attempts.length} attempt${attempts.length === 1 ? "" : "s"}`),
        timeEl(d.createdAt),
      ),
      h(
        "div",
        { class: "delivery-body" },
        h(
          "dl",
          { class: "facts" },
          fact("Delivery", h("code", {}, d.id)),
          show.message !== false && fact("Message", h("a", { href: route("messages", d.messageId) }, d.messageId)),
          show.subscription !== false && d.subscriptionId && fact("Subscription", h("a", { href: route("subscriptions", d.subscriptionId) }, d.subscriptionId)),
          d.redeliveryOf && fact("Redelivery of", h("code", { class: "redelivery-of" }, d.redeliveryOf)),
          d.nextAttemptAt && fact("Next attempt", timeEl(d.nextAttemptAt)),
          fact("Updated", timeEl(d.updatedAt)),
        ),
        body,
        attemptsTable(attempts),
        finished(d) && h("button", { type: "button", class: "redeliver", onclick: (e) => redeliver(d, /** @type {HTMLButtonElement} */ (e.currentTarget)) }, "Redeliver"),
      ),
    );
    const onToggle = () => {
      if (card.open) open.add(d.id);
      else open.delete(d.id);
      if (card.open && body && !body.dataset.loaded) showBody(d.messageId, body);
    };
    card.addEventListener("toggle", onToggle);
    if (card.open) onToggle();
    return card;
  }

  /** The request body of a delivery's attempts: its message's envelope. @param {string} messageId @param {HTMLElement} slot */
  function showBody(messageId, slot) {
    slot.dataset.loaded = "true";
    let read = bodies.get(messageId);
    if (!read) {
      read = api.call("GetMessage", { id: messageId });
      bodies.set(messageId, read);
      read.catch(() => bodies.delete(messageId));
    }
    read.then(
      (res) => {
        const m = res.message ?? {};
        replace(slot, h("h3", {}, "Request body"), h("pre", { class: "payload request-body" }, JSON.stringify({ event: m.event, payload: m.payload ?? null, timestamp: m.timestamp }, null, 2)));
      },
      (err) => {
        delete slot.dataset.loaded;
        replace(slot, h("h3", {}, "Request body"), errorBox(err));
      },
    );
  }

  /** @param {any} d @param {HTMLButtonElement} button */
  async function redeliver(d, button) {
    button.disabled = true;
    try {
      const res = await api.call("Redeliver", { deliveryId: d.id });
      api.notify(`Redelivery ${res.delivery?.id ?? ""} queued for ${d.url}`);
      if (res.delivery?.id) open.add(res.delivery.id);
      await page(true);
    } catch (err) {
      button.after(errorBox(err));
    } finally {
      button.disabled = false;
    }
  }

  more.addEventListener("click", () => void page(false));
  void page(true);
  return { el, reload: () => page(true) };
}

/** @param {string} term @param {Node | string} value */
function fact(term, value) {
  return [h("dt", {}, term), h("dd", {}, value)];
}

/** @param {any[]} attempts */
function attemptsTable(attempts) {
  if (!attempts.length) return h("p", { class: "muted" }, "No attempt yet.");
  return h(
    "table",
    { class: "attempts" },
    h("thead", {}, h("tr", {}, ["#", "At", "Status", "Duration", "Response or error"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      attempts.map((a, i) =>
        h(
          "tr",
          { class: num(a.statusCode) >= 200 && num(a.statusCode) < 300 ? "ok" : "bad" },
          h("td", {}, i + 1),
          h("td", {}, timeEl(a.attemptedAt)),
          h("td", {}, num(a.statusCode) ? String(num(a.statusCode)) : "—"),
          h("td", {}, duration(a.durationMs)),
          h("td", {}, a.error ? h("span", { class: "error-text" }, a.error) : a.responseExcerpt ? h("pre", { class: "excerpt" }, a.responseExcerpt) : h("span", { class: "muted" }, "(empty body)")),
        ),
      ),
    ),
  );
}
