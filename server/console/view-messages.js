// A message (GetMessage: its event, payload and keys) with every delivery it was given, refreshed as their
// outcomes stream in; and the tenant's failed deliveries across subscriptions.
import { h, replace, timeEl } from "./dom.js";
import { deliveryList } from "./deliveries.js";
import { errorBox } from "./errors.js";
import { ORDERED, orderField } from "./order.js";

/** @typedef {import("./app.js").Ctx} Ctx */

/**
 * `focus`: a delivery of the message to open and mark (#/messages/<id>/<delivery id>, where a redelivery link lands).
 * @param {Ctx} ctx @param {HTMLElement} view @param {string} id @param {string} [focus]
 */
export function messagePage(ctx, view, id, focus) {
  const head = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const list = deliveryList(ctx, {
    load: (pageToken) => ctx.call("ListDeliveries", { messageId: id, pageSize: 50, pageToken, ...orderField() }),
    empty: "No subscription matched this message.",
    show: { message: false },
    order: ORDERED,
    ...(focus ? { focus } : {}),
  });
  replace(view, head, h("h2", {}, "Deliveries"), list.el);
  ctx
    .call("GetMessage", { id })
    .then((res) => {
      const m = res.message ?? {};
      replace(
        head,
        h("h1", {}, "Message ", h("code", { class: "message-id" }, m.id)),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "Event"),
          h("dd", { class: "event" }, m.event),
          h("dt", {}, "Created"),
          h("dd", {}, timeEl(m.createdAt)),
          h("dt", {}, "Envelope timestamp"),
          h("dd", {}, m.timestamp || "—"),
          h("dt", {}, "Idempotency key"),
          h("dd", {}, m.idempotencyKey || "—"),
          h("dt", {}, "Deliveries"),
          h("dd", {}, String(m.deliveries ?? 0)),
        ),
        h("h2", {}, "Payload"),
        h("pre", { class: "payload" }, JSON.stringify(m.payload ?? null, null, 2)),
      );
    })
    .catch((err) => replace(head, errorBox(err)));
  let timer = 0;
  const off = ctx.live.onDelivery((d) => {
    if (d.messageId !== id) return;
    clearTimeout(timer);
    timer = window.setTimeout(() => void list.reload(), 300);
  });
  return () => {
    off();
    clearTimeout(timer);
  };
}

/** @param {Ctx} ctx @param {HTMLElement} view */
export function failedPage(ctx, view) {
  const list = deliveryList(ctx, {
    // Neither id: the whole tenant, in the order chosen (newest first unless changed).
    load: (pageToken) => ctx.call("ListDeliveries", { status: "DELIVERY_STATUS_FAILED", pageSize: 50, pageToken, ...orderField() }),
    empty: "No failed deliveries. Every delivery so far succeeded or is still being tried.",
    order: ORDERED,
  });
  const refresh = h("button", { type: "button", class: "secondary", onclick: () => void list.reload() }, "Refresh");
  replace(view, h("h1", {}, "Failed deliveries ", refresh), h("p", { class: "muted" }, "Every subscription of this tenant. One redelivered since (here, or by a recovery on its subscription's page) shows as handled, with a link to its redelivery."), list.el);
  return () => undefined;
}
