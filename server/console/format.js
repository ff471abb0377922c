// What the console says about deliveries and subscriptions, from the protobuf JSON the server answers
// (fields at their default are left out of it: an absent status is unspecified, absent counts are zero).
import { h, num } from "./dom.js";

/** @param {string | undefined} s */
export function statusName(s) {
  return ({ DELIVERY_STATUS_PENDING: "pending", DELIVERY_STATUS_DELIVERED: "delivered", DELIVERY_STATUS_FAILED: "failed" })[s ?? ""] ?? "unknown";
}

/**
 * A delivery's state; a finished one that was redelivered (redeliveredAs: by Redeliver or a recovery) is
 * handled, its outcome now its redelivery's, so it no longer reads as a plain failure.
 * @param {string | undefined} s @param {string} [redeliveredAs]
 */
export function statusBadge(s, redeliveredAs) {
  const name = statusName(s);
  if (redeliveredAs && (name === "failed" || name === "delivered")) {
    return h("span", { class: "badge handled", "data-status": name, "data-handled": "redelivered", title: `${name}, then redelivered as ${redeliveredAs}` }, "handled (redelivered)");
  }
  return h("span", { class: `badge ${name}`, "data-status": name }, name);
}

/** A delivery is finished, so Redeliver takes it, once delivered or failed. @param {any} d */
export function finished(d) {
  return d.status === "DELIVERY_STATUS_DELIVERED" || d.status === "DELIVERY_STATUS_FAILED";
}

/** "HTTP 200", or the error an attempt got without a response. @param {any} a */
export function attemptOutcome(a) {
  if (!a) return "no attempt yet";
  const code = num(a.statusCode);
  return code ? `HTTP ${code}` : a.error || "no response";
}

/**
 * A subscription's health as the console shows it. The success rate is per delivery over the server's recent
 * window (recentWindowHours, 24): of the deliveries that finished in it, the share that succeeded, so one that
 * succeeded on its third attempt counts as one success, not one in three. The attempt counts, all time, are
 * kept beside it. Before any delivery finished in the window there is no rate ("no attempts recorded" while
 * the endpoint has never been tried), rather than a rate of 0 %.
 * @param {any} sub
 */
export function health(sub) {
  const hl = sub.health ?? {};
  const ok = num(hl.attemptsSucceeded);
  const failed = num(hl.attemptsFailed);
  const total = ok + failed;
  const windowHours = num(hl.recentWindowHours) || 24;
  const deliveredRecently = num(hl.recentDeliveriesSucceeded);
  const deliveries = deliveredRecently + num(hl.recentDeliveriesFailed);
  const rate = deliveries ? (deliveredRecently / deliveries) * 100 : undefined;
  const plural = (/** @type {number} */ n, /** @type {string} */ one, /** @type {string} */ many) => `${n} ${n === 1 ? one : many}`;
  return {
    ok,
    failed,
    total,
    deliveries,
    windowHours,
    rate,
    rateText:
      rate === undefined
        ? total
          ? `no deliveries finished in the last ${windowHours} h`
          : "no attempts recorded"
        : `${rate >= 99.95 || rate < 0.05 ? rate.toFixed(0) : rate.toFixed(1)} % of ${plural(deliveries, "delivery", "deliveries")} (last ${windowHours} h)`,
    attemptsText: total ? `${ok} of ${plural(total, "attempt", "attempts")} answered 2xx (all time)` : "none yet",
    level: rate === undefined ? "none" : rate >= 99 ? "good" : rate >= 80 ? "fair" : "poor",
    lastFailureAt: /** @type {string | undefined} */ (hl.lastFailureAt),
    lastError: /** @type {string} */ (hl.lastError ?? ""),
    lastSuccessAt: /** @type {string | undefined} */ (hl.lastSuccessAt),
    failingSince: /** @type {string | undefined} */ (hl.failingSince),
    consecutiveFailures: num(hl.consecutiveFailures),
  };
}

/** @param {any} sub */
export function stateBadge(sub) {
  return sub.disabled
    ? h("span", { class: "badge failed", "data-state": "disabled", title: sub.disabledReason || "disabled by a caller" }, "disabled")
    : h("span", { class: "badge delivered", "data-state": "active" }, "active");
}
