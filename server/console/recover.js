// Recover many: RecoverDeliveries redelivers a subscription's failed deliveries created since a time, a
// bounded batch per call; the form calls again with next_page_token until it is empty, showing the count.
import { busy, h, replace } from "./dom.js";
import { errorBox } from "./errors.js";

const BATCH = 100;

/** @param {Date} d */
function localInputValue(d) {
  const off = d.getTimezoneOffset() * 60_000;
  return new Date(d.getTime() - off).toISOString().slice(0, 16);
}

/** @param {import("./rpc.js").Api} ctx @param {string} subscriptionId @param {() => void} onRecovered */
export function recoverForm(ctx, subscriptionId, onRecovered) {
  const since = h("input", { type: "datetime-local", name: "since", required: true, value: localInputValue(new Date(Date.now() - 24 * 3600_000)) });
  const start = h("button", { type: "submit" }, "Recover failed deliveries");
  const stop = h("button", { type: "button", class: "secondary", hidden: true }, "Stop");
  const progress = h("div", { class: "recover-progress", "aria-live": "polite" });
  const form = h("form", { class: "recover" }, h("h2", {}, "Recover"), h("p", { class: "muted" }, "Redeliver every failed delivery made since:"), h("label", {}, "Since ", since), " ", start, " ", stop, progress);
  /** @type {AbortController | undefined} */
  let running;
  stop.addEventListener("click", () => running?.abort());
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const when = new Date(since.value);
    if (Number.isNaN(when.getTime())) return;
    void busy(start, async () => {
      const abort = (running = new AbortController());
      stop.hidden = false;
      let total = 0;
      let token = "";
      try {
        do {
          replace(progress, `Recovering… ${total} redelivered so far`);
          const res = await ctx.call("RecoverDeliveries", { subscriptionId, since: when.toISOString(), limit: BATCH, pageToken: token }, abort.signal);
          total += (res.deliveries ?? []).length;
          token = res.nextPageToken ?? "";
        } while (token && !abort.signal.aborted);
        replace(progress, h("span", { class: "done", "data-recovered": total }, `Recovered: ${total} ${total === 1 ? "delivery" : "deliveries"} redelivered.`));
        if (total) onRecovered();
      } catch (err) {
        if (abort.signal.aborted) replace(progress, `Stopped after ${total} redelivered; recovering again skips the ones already redelivered.`);
        else replace(progress, total ? `${total} redelivered before:` : "", errorBox(err));
      } finally {
        stop.hidden = true;
        running = undefined;
      }
    });
  });
  return form;
}
