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
 * `order` (the console's) puts its control above the list, which reloads from the first page when it changes
 * (`load` asks for the order chosen), and shows each delivery's attempts in the same order. `focus` opens the
 * delivery of that id once listed, marked and scrolled to (a link to a redelivery lands there).
 * @param {import("./rpc.js").Api} api
 * @param {{ load: (pageToken: string) => Promise<{deliveries?: any[], nextPageToken?: string}>, empty: string,
 *           show?: { message?: boolean, subscription?: boolean, requestBody?: boolean },
 *           order?: { control: (onChange: () => void) => Node, newestFirst: () => boolean }, focus?: string }} opts
 */
export function deliveryList(api, { load, empty, show = {}, order, focus }) {
  const list = h("div", { class: "deliveries" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  const status = h("div", { class: "list-status" });
  const el = h("section", { class: "delivery-list" }, order ? order.control(() => void page(true)) : "", status, list, more);
  /** @type {Set<string>} */
  const open = new Set(focus ? [focus] : []);
  let focused = false;
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
      if (focus && !focused) {
        const card = list.querySelector(`[data-delivery-id="${CSS.escape(focus)}"]`);
        if (card) {
          focused = true;
          card.classList.add("focus");
          card.scrollIntoView({ block: "center" });
        }
      }
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
        statusBadge(d.status, d.redeliveredAs),
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
          d.redeliveredAs && fact("Redelivered as", deliveryLink(d.messageId, d.redeliveredAs, "redelivered-as")),
          d.redeliveryOf && fact("Redelivery of", deliveryLink(d.messageId, d.redeliveryOf, "redelivery-of")),
          d.nextAttemptAt && fact("Next attempt", timeEl(d.nextAttemptAt)),
          fact("Updated", timeEl(d.updatedAt)),
        ),
        body,
        attemptsTable(attempts, order?.newestFirst() ?? false),
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

  /**
   * Another delivery of the same message: a link to it on the message's page (which opens it) where the
   * list links messages, its id alone elsewhere (the portal has no message page).
   * @param {string} messageId @param {string} id @param {string} cls
   */
  function deliveryLink(messageId, id, cls) {
    return show.message === false && !order ? h("code", { class: cls }, id) : h("a", { class: cls, href: route("messages", messageId, id) }, h("code", {}, id));
  }

  more.addEventListener("click", () => void page(false));
  void page(true);
  return { el, reload: () => page(true) };
}

/** @param {string} term @param {Node | string} value */
function fact(term, value) {
  return [h("dt", {}, term), h("dd", {}, value)];
}

/** Numbered from the first attempt, listed newest first when asked. @param {any[]} attempts @param {boolean} newestFirst */
function attemptsTable(attempts, newestFirst) {
  if (!attempts.length) return h("p", { class: "muted" }, "No attempt yet.");
  const numbered = attempts.map((a, i) => ({ a, n: i + 1 }));
  if (newestFirst) numbered.reverse();
  return h(
    "table",
    { class: "attempts" },
    h("thead", {}, h("tr", {}, ["#", "At", "Status", "Duration", "Response or error"].map((t) => h("th", { scope: "col" }, t)))),
    h(
      "tbody",
      {},
      numbered.map(({ a, n }) =>
        h(
          "tr",
          { class: num(a.statusCode) >= 200 && num(a.statusCode) < 300 ? "ok" : "bad", "data-attempt": n },
          h("td", {}, n),
          h("td", {}, timeEl(a.attemptedAt)),
          h("td", {}, num(a.statusCode) ? String(num(a.statusCode)) : "—"),
          h("td", {}, duration(a.durationMs)),
          h("td", {}, a.error ? h("span", { class: "error-text" }, a.error) : a.responseExcerpt ? h("pre", { class: "excerpt" }, a.responseExcerpt) : h("span", { class: "muted" }, "(empty body)")),
        ),
      ),
    ),
  );
}
