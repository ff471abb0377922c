// What an attempt's outcome tells the operator: one log line and the metrics, for every attempt, from
// the one place every outcome passes (DeliveryEngine.run, right after the worker classified it).
//
// A line names the delivery, its message and subscription, the endpoint's origin (scheme://host:port:
// a path or query can hold a token) and what happened; never a secret, a header or the payload, and
// not the response excerpt either (a receiver may echo the payload). Successes are debug, a failed
// attempt with a retry to come warn, a delivery that ends failed error: one line per attempt.
import type { Logger } from "../telemetry/log.js";
import type { HookwireMetrics } from "../telemetry/metrics.js";
import type { Delivery } from "../ports.js";
import type { AttemptOutcome } from "./worker.js";

export type ReportedOutcome = Exclude<AttemptOutcome, { kind: "interrupted" }>;

export function reportAttempt(log: Logger, metrics: HookwireMetrics, outcome: ReportedOutcome): void {
  const next = outcome.next;
  const last = next.attempts[next.attempts.length - 1];
  if (!last) return;
  metrics.attempt(last.statusCode, last.durationMs);
  if (outcome.kind === "retry") {
    metrics.retryScheduled();
    if (log.enabled("warn")) {
      log.warn("delivery attempt failed; will retry", {
        ...fieldsOf(next, last),
        retryAt: next.nextAttemptAt.toISOString(),
        retryInMs: outcome.afterMs,
      });
    }
    return;
  }
  const delivered = next.status === "delivered";
  metrics.deliveryFinished(next.tenant, delivered ? "delivered" : "failed");
  if (delivered) {
    if (log.enabled("debug")) log.debug("delivered", fieldsOf(next, last));
    return;
  }
  if (log.enabled("error")) log.error("delivery failed", { ...fieldsOf(next, last), reason: outcome.exhausted ? "retries exhausted" : "not retryable" });
}

function fieldsOf(d: Delivery, a: Delivery["attempts"][number]): Record<string, unknown> {
  return {
    deliveryId: d._id,
    messageId: d.messageId,
    // Empty for a Send's delivery: it has no subscription.
    subscriptionId: d.subscriptionId,
    tenant: d.tenant,
    event: d.event,
    endpoint: originOf(d.url),
    attempt: d.attempts.length,
    ...(a.statusCode > 0 ? { statusCode: a.statusCode } : {}),
    ...(a.error ? { error: a.error } : {}),
    durationMs: a.durationMs,
  };
}

/** scheme://host:port, the port always written (URL.origin leaves out a scheme's default one). */
function originOf(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
}
