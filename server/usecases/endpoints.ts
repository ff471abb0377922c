// Endpoints that heal or stop: what an endpoint's outcomes mean for its subscription. A failing streak
// that meets the disabling rule (server/domain/policy.ts) or a 410 Gone disables it; whoever disabled it
// announces that to the tenant's operators, and a delivery that failed for good is announced too, as
// operational events (server/domain/operational-events.ts) delivered like any message.
import type { Logger } from "../telemetry/log.js";
import { attemptError, failingReason, GONE_REASON, type DisableRule } from "../domain/policy.js";
import {
  DELIVERY_EXHAUSTED,
  deliveryExhaustedPayload,
  ENDPOINT_DISABLED,
  endpointDisabledPayload,
  isOperational,
  type DisableCause,
} from "../domain/operational-events.js";
import { NO_HEALTH, type Delivery, type EndpointEvents, type HealthLog, type SubscriptionHealth, type Subscriptions } from "../ports.js";
import { triggerOperational, type MessageDeps } from "./messages.js";
import type { HookwireMetrics } from "../telemetry/metrics.js";

export interface EndpointDeps {
  subscriptions: Subscriptions;
  health: HealthLog;
  /** Triggers the operational events (through the engine's dispatch). */
  messages: MessageDeps;
  rule: DisableRule;
  log: Logger;
  /** Where disabled endpoints are counted, by reason. */
  metrics: HookwireMetrics;
}

/** Judges a failing endpoint's stored health against the rule; disables it when the rule is met. */
export async function judgeFailing(deps: EndpointDeps, tenant: string, subscriptionId: string, health: SubscriptionHealth): Promise<void> {
  const reason = failingReason(health, Date.now(), deps.rule);
  if (reason !== undefined) await disableEndpoint(deps, tenant, subscriptionId, "failing", reason, health);
}

/** The endpoint answered 410 Gone: it asked not to be called again. */
export async function disableGone(deps: EndpointDeps, doc: Delivery): Promise<void> {
  const health = (await deps.health.get(doc.tenant, [doc.subscriptionId]).catch(() => undefined))?.get(doc.subscriptionId) ?? NO_HEALTH;
  const last = doc.attempts[doc.attempts.length - 1];
  await disableEndpoint(deps, doc.tenant, doc.subscriptionId, "gone", GONE_REASON, { ...health, lastError: last ? attemptError(last) : "HTTP 410" });
}

async function disableEndpoint(
  deps: EndpointDeps,
  tenant: string,
  subscriptionId: string,
  cause: DisableCause,
  reason: string,
  health: SubscriptionHealth,
): Promise<void> {
  const now = new Date();
  // Only the call that disabled it announces it: one that finds it disabled already stays quiet.
  const sub = await deps.subscriptions.disable(tenant, subscriptionId, reason, now);
  if (!sub) return;
  deps.metrics.endpointDisabled(cause);
  deps.log.warn("subscription disabled", { tenant, subscriptionId, cause, reason });
  // Not to itself: a disabled operations endpoint gets nothing anyway, and this says so explicitly.
  // To the disabled endpoint's owner's subscriptions only (the tenant's own for a subscription of its own).
  await triggerOperational(deps.messages, tenant, sub.owner, ENDPOINT_DISABLED, endpointDisabledPayload(subscriptionId, cause, reason, now, health), subscriptionId);
}

/** A delivery failed for good. Hookwire's own events are not announced when they fail: no loops. */
export async function announceExhausted(deps: EndpointDeps, doc: Delivery): Promise<void> {
  if (isOperational(doc.event)) return;
  await triggerOperational(deps.messages, doc.tenant, doc.owner ?? "", DELIVERY_EXHAUSTED, deliveryExhaustedPayload(doc));
}

/** This use case as the engine hears it: what each endpoint outcome means. */
export function endpointEvents(deps: EndpointDeps): EndpointEvents {
  return {
    gone: (doc) => disableGone(deps, doc),
    failing: (tenant, id, health) => judgeFailing(deps, tenant, id, health),
    exhausted: (doc) => announceExhausted(deps, doc),
  };
}
