// What the SDK's calls answer, as types only (results.ts makes them from the protobuf answers): apart, so
// that the errors (errors.ts) can name a delivery without importing the conversions, which throw them.

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface Subscription {
  id: string;
  /** The platform's customer this endpoint belongs to; empty for the tenant's own. */
  owner: string;
  url: string;
  /** Event patterns ("order.*", "*"). */
  events: string[];
  description: string;
  createdAt: Date;
  updatedAt: Date;
  disabled: boolean;
  /** Why it is disabled (e.g. the endpoint answered 410 Gone); empty when enabled. */
  disabledReason: string;
  /** 0 where the server's default applies. */
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
  /** How its endpoint has been answering, counted per attempt. */
  health: SubscriptionHealth;
  /**
   * Extra request headers sent with every delivery, names in lower case. Their values are given by
   * `getSubscription` alone; every other answer has them masked as "********".
   */
  headers: Record<string, string>;
  /** At most this many attempts a second to the endpoint (per Hookwire process); 0 for no limit. */
  rateLimitPerSecond: number;
}

export interface SubscriptionHealth {
  attemptsSucceeded: number;
  attemptsFailed: number;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  /** What the last failed attempt got, e.g. "HTTP 503". */
  lastError: string;
  /** The first failed attempt since the last success; null while the latest attempt succeeded. */
  failingSince: Date | null;
  /** Failed attempts since the last success. */
  consecutiveFailures: number;
}

export interface DeliveryAttempt {
  attemptedAt: Date;
  durationMs: number;
  /** 0 when no HTTP answer came (see error). */
  statusCode: number;
  /** The start of the receiver's answer (capped). */
  responseExcerpt: string;
  /** Why the attempt failed without an HTTP answer (timeout, refused, …); empty otherwise. */
  error: string;
}

export interface Delivery {
  id: string;
  messageId: string;
  /** Empty for a Send (no subscription). */
  subscriptionId: string;
  url: string;
  event: string;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  createdAt: Date;
  updatedAt: Date;
  /** When the next attempt is due, while pending. */
  nextAttemptAt: Date | null;
  /** The delivery this one redelivers; empty otherwise. */
  redeliveryOf: string;
  /** Its subscription's owner; empty for the tenant's own subscriptions and for a Send. */
  owner: string;
}

export interface Message {
  id: string;
  event: string;
  /** The JSON that was sent. */
  payload: unknown;
  /** The envelope's timestamp, as delivered. */
  timestamp: string;
  createdAt: Date;
  idempotencyKey: string;
  /** How many subscriptions it went to. */
  deliveries: number;
  /** The owner it was for; empty for the tenant's own events and for announcements to every owner. */
  owner: string;
  /** An announcement to every owner. */
  allOwners: boolean;
}

export interface Registered {
  subscription: Subscription;
  /** The signing secret: shown only here and on rotation. */
  secret: string;
}

export interface Triggered {
  messageId: string;
  /** How many subscriptions matched. */
  deliveries: number;
}

export interface SubscriptionPage {
  subscriptions: Subscription[];
  /** Empty on the last page. */
  nextPageToken: string;
}

export interface DeliveryPage {
  deliveries: Delivery[];
  /** Empty on the last page. */
  nextPageToken: string;
}

export interface Rotated {
  subscription: Subscription;
  secret: string;
}

export interface Verified {
  valid: boolean;
  /** Why not, when invalid. */
  reason: string;
}

/** An entry of the tenant's event type catalog, or one of Hookwire's built-in operational events. */
export interface EventType {
  /** The event's name as trigger() takes it, e.g. "order.created". */
  name: string;
  description: string;
  /** The JSON Schema every trigger() of this event must satisfy; null when payloads are not checked. */
  schema: Record<string, unknown> | null;
  /** An example payload (what a test event sends); undefined when there is none. */
  example?: unknown;
  /** Null for a built-in. */
  createdAt: Date | null;
  updatedAt: Date | null;
  /** One of Hookwire's own "hookwire." events: listed for every tenant, never changed. */
  builtin: boolean;
}

export interface EventTypePage {
  /** In name order, built-ins among them. */
  eventTypes: EventType[];
  /** Empty on the last page. */
  nextPageToken: string;
}

/** A customer portal session (createPortalSession). */
export interface PortalSession {
  /** The session's credential ("hwp_…"), for this owner only; Hookwire keeps only its digest. */
  token: string;
  /** The portal page, with the token in its fragment: open it, or put it in an iframe. */
  url: string;
  expiresAt: Date;
}

/** What sendTestEvent() stored. */
export interface TestEvent {
  messageId: string;
  /** The test's one delivery, as stored (pending). */
  delivery: Delivery;
}
