// Operational events: what Hookwire itself triggers in a tenant about its endpoints, their names and
// payloads. Pure. The payloads carry ids, reasons and times, never a secret, a URL (it may hold a
// token) or the original payload. The "hookwire." prefix is Hookwire's own: callers cannot trigger
// it, and the "*" filter does not match it, so existing catch-all subscribers see nothing new.
import type { Delivery, SubscriptionHealth } from "./model.js";
import { attemptError } from "./policy.js";

export const OPERATIONAL_PREFIX = "hookwire.";

export const ENDPOINT_DISABLED = "hookwire.endpoint.disabled";
export const DELIVERY_EXHAUSTED = "hookwire.delivery.exhausted";

/** Reserved for Hookwire, in any letter case. */
export function isOperational(event: string): boolean {
  return event.slice(0, OPERATIONAL_PREFIX.length).toLowerCase() === OPERATIONAL_PREFIX;
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : null);

/** Why an endpoint was disabled: its failing streak met the rule, or it answered 410 Gone. */
export type DisableCause = "failing" | "gone";

export interface EndpointDisabledPayload {
  subscription_id: string;
  cause: DisableCause;
  reason: string;
  disabled_at: string;
  failing_since: string | null;
  consecutive_failures: number;
  last_error: string;
}

export function endpointDisabledPayload(
  subscriptionId: string,
  cause: DisableCause,
  reason: string,
  disabledAt: Date,
  health: SubscriptionHealth,
): EndpointDisabledPayload {
  return {
    subscription_id: subscriptionId,
    cause,
    reason,
    disabled_at: disabledAt.toISOString(),
    failing_since: iso(health.failingSince),
    consecutive_failures: health.consecutiveFailures,
    last_error: health.lastError,
  };
}

export interface DeliveryExhaustedPayload {
  delivery_id: string;
  message_id: string;
  subscription_id: string;
  event: string;
  attempts: number;
  first_attempt_at: string | null;
  last_attempt_at: string | null;
  last_status_code: number;
  last_error: string;
}

export function deliveryExhaustedPayload(doc: Delivery): DeliveryExhaustedPayload {
  const last = doc.attempts[doc.attempts.length - 1];
  return {
    delivery_id: doc._id,
    message_id: doc.messageId,
    subscription_id: doc.subscriptionId,
    event: doc.event,
    attempts: doc.attempts.length,
    first_attempt_at: iso(doc.attempts[0]?.at),
    last_attempt_at: iso(last?.at),
    last_status_code: last?.statusCode ?? 0,
    last_error: last ? attemptError(last) : "",
  };
}
