// The model: what Hookwire stores and answers about, as plain types. No I/O; the ports (server/ports.ts)
// speak in these terms, and so do the use cases, the engine, the store and the API.
import type { EndpointHeader } from "./endpoint-headers.js";
import type { PolicyOverrides, RetryPolicy } from "./policy.js";

export type DeliveryState = "pending" | "delivered" | "failed";

export interface Attempt {
  at: Date;
  durationMs: number;
  /** 0 when no response arrived. */
  statusCode: number;
  excerpt: string;
  error: string;
}

/** One message to one destination, with every attempt made so far. */
export interface Delivery {
  _id: string;
  tenant: string;
  messageId: string;
  /** Empty for deliveries made by Send. */
  subscriptionId: string;
  /** Where the latest attempt went (a subscription's URL is read again for every attempt). No secret is kept here. */
  url: string;
  event: string;
  policy: RetryPolicy;
  status: DeliveryState;
  attempts: Attempt[];
  createdAt: Date;
  updatedAt: Date;
  nextAttemptAt: Date;
  /** Set when Redeliver made this delivery. */
  redeliveryOf?: string;
  /**
   * The newest delivery Redeliver or RecoverDeliveries made for this one. Never stored on the delivery
   * (that would rewrite its log row): the log RPCs read it from the recovery marks (ports.ts Recoveries).
   */
  redeliveredAs?: string;
  /** Its subscription's owner; absent or empty for the tenant's own subscriptions, for Send, and in rows written before owners. */
  owner?: string;
  /**
   * The W3C traceparent of the call that made it (a Trigger, Send, Redeliver), kept only while traces are on
   * (docs/tracing.md): its attempts, whichever process makes them and however late, are spans of that trace.
   */
  trace?: string;
}

export interface Message {
  _id: string;
  tenant: string;
  event: string;
  /** The JSON envelope exactly as delivered; user JSON stays a string, never document keys. */
  body: string;
  idempotencyKey: string;
  deliveries: number;
  createdAt: Date;
  /** The owner the event was for; absent or empty for the tenant's own events (and in messages written before owners). */
  owner?: string;
  /** An announcement to every owner (Trigger's all_owners). */
  allOwners?: boolean;
}

export interface Subscription {
  _id: string;
  tenant: string;
  /** The platform's customer it belongs to ("" for the tenant's own); never changed after Register. */
  owner: string;
  url: string;
  events: string[];
  /** Signs deliveries; never logged, returned only on creation and rotation. */
  secret: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
  disabled: boolean;
  disabledReason: string;
  /** This subscription's own delivery policy; what is unset falls back to the server's defaults. */
  policy: PolicyOverrides;
  /** Secrets replaced by RotateSecret that still sign deliveries until they expire. */
  previousSecrets?: PreviousSecret[];
  /** Extra request headers of every attempt (endpoint-headers.ts); like the secrets, sealed at rest and never logged. Absent: none. */
  headers?: EndpointHeader[];
  /** At most this many attempts a second to its endpoint, per process (endpoint-rate.ts); absent or 0: no limit. */
  rateLimitPerSecond?: number;
}

export interface PreviousSecret {
  secret: string;
  expiresAt: Date;
}

export type SubscriptionChanges = Partial<Pick<Subscription, "url" | "events" | "description" | "disabled" | "disabledReason" | "policy" | "secret" | "previousSecrets" | "headers" | "rateLimitPerSecond">>;

/** How a subscription's endpoint has been answering, counted per attempt that was sent. */
export interface SubscriptionHealth {
  attemptsSucceeded: number;
  attemptsFailed: number;
  lastSuccessAt?: Date | undefined;
  lastFailureAt?: Date | undefined;
  /** What the last failed attempt got ("HTTP 503", "timed out after 10000 ms"). */
  lastError: string;
  /** The first failed attempt since the last success; unset while the latest attempt succeeded. */
  failingSince?: Date | undefined;
  /** Failed attempts since the last success. */
  consecutiveFailures: number;
  /**
   * Deliveries that finished within the last RECENT_WINDOW_HOURS (by the hour they were recorded), by
   * outcome: one that succeeded after retries is one success. What a success rate is computed from.
   */
  recentDeliveriesSucceeded: number;
  recentDeliveriesFailed: number;
}

/** The window of SubscriptionHealth's recent delivery counts: the current hour and the 23 before it. */
export const RECENT_WINDOW_HOURS = 24;

export const NO_HEALTH: SubscriptionHealth = Object.freeze({ attemptsSucceeded: 0, attemptsFailed: 0, lastError: "", consecutiveFailures: 0, recentDeliveriesSucceeded: 0, recentDeliveriesFailed: 0 });

/** A subscription as the API answers it: with its health. */
export type SubscriptionView = Subscription & { health: SubscriptionHealth };

/** A stored secret that cannot be opened with the configured keys (altered, or sealed by a key no longer configured). */
export class SecretUnreadableError extends Error {
  override name = "SecretUnreadableError";
}

/** The previous secrets that have not expired yet. */
export function activePreviousSecrets(doc: { previousSecrets?: PreviousSecret[] | undefined }, now = new Date()): PreviousSecret[] {
  return (doc.previousSecrets ?? []).filter((p) => p.expiresAt.getTime() > now.getTime());
}
