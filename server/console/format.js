// What the console says about deliveries and subscriptions, from the protobuf JSON the server answers
// (fields at their default are left out of it: an absent status is unspecified, absent counts are zero).
import { h, num } from "./dom.js";

/** @param {string | undefined} s */
export function statusName(s) {
  return ({ DELIVERY_STATUS_PENDING: "pending", DELIVERY_STATUS_DELIVERED: "delivered", DELIVERY_STATUS_FAILED: "failed" })[s ?? ""] ?? "unknown";
}

/** @param {string | undefined} s */
export function statusBadge(s) {
  const name = statusName(s);
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
 * A subscription's health as the console shows it. Until the server records health (a server without it
 * answers none, or zeros), every count is zero: "no attempts recorded" rather than a rate of 0 %.
 * @param {any} sub
 */
export function health(sub) {
  const hl = sub.health ?? {};
  const ok = num(hl.attemptsSucceeded);
  const failed = num(hl.attemptsFailed);
  const total = ok + failed;
  const rate = total ? (ok / total) * 100 : undefined;
  return {
    ok,
    failed,
    total,
    rate,
    rateText: rate === undefined ? "no attempts recorded" : `${rate >= 99.95 || rate < 0.05 ? rate.toFixed(0) : rate.toFixed(1)} % (${ok} of ${total})`,
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
