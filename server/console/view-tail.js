// The live tail: outcomes as the server makes them, newest on top, from the console's one WatchDeliveries
// stream (live.js). A row opens its message.
import { duration, h, replace, route, time } from "./dom.js";
import { attemptOutcome, statusBadge } from "./format.js";

/** @param {import("./app.js").Ctx} ctx @param {HTMLElement} view */
export function tailPage(ctx, view) {
  const body = h("tbody", {});
  const state = h("p", { class: "tail-state" });
  let paused = false;
  const pause = h("button", { type: "button", class: "secondary" }, "Pause");
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    if (!paused) redraw();
  });
  const empty = h("tr", { class: "empty" }, h("td", { colspan: 7, class: "muted" }, "Waiting for deliveries… Trigger an event and its outcomes appear here."));
  replace(
    view,
    h("h1", {}, "Live tail ", pause),
    state,
    h("table", { class: "tail" }, h("thead", {}, h("tr", {}, ["At", "Status", "Event", "Endpoint", "Attempt", "Outcome", "Message"].map((t) => h("th", {}, t)))), body),
  );

  /** @param {any} d */
  function row(d) {
    const attempts = d.attempts ?? [];
    const last = attempts[attempts.length - 1];
    const href = route("messages", d.messageId);
    return h(
      "tr",
      { class: "tail-row", "data-delivery-id": d.id, "data-message-id": d.messageId, onclick: () => (location.hash = href) },
      h("td", {}, time(last?.attemptedAt ?? d.updatedAt)),
      h("td", {}, statusBadge(d.status)),
      h("td", {}, d.event),
      h("td", { class: "url", title: d.url }, d.url),
      h("td", {}, String(attempts.length)),
      h("td", {}, attemptOutcome(last), last ? ` · ${duration(last.durationMs)}` : ""),
      h("td", {}, h("a", { href }, d.messageId), d.redeliveryOf && h("span", { class: "muted" }, " (redelivery)")),
    );
  }

  function redraw() {
    body.replaceChildren(...(ctx.live.recent.length ? ctx.live.recent.map(row) : [empty]));
  }
  function showState() {
    const { state: s, detail } = ctx.live;
    replace(state, h("span", { class: `live-dot ${s}` }), s === "live" ? "Live: new outcomes appear as they happen." : s === "reconnecting" ? `Reconnecting (${detail})…` : s === "connecting" ? "Connecting…" : "Not watching.");
    state.dataset.state = s;
  }
  redraw();
  showState();
  const offState = ctx.live.onState(showState);
  const off = ctx.live.onDelivery((d) => {
    if (paused) return;
    empty.remove();
    body.prepend(row(d));
    while (body.childElementCount > 200) body.lastElementChild?.remove();
  });
  return () => {
    off();
    offState();
  };
}
