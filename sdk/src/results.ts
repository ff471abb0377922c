// What the SDK's calls answer: plain objects a TypeScript user expects (numbers, Dates, the payload as
// the JSON that was sent, string unions), each safe for JSON.stringify, made from the protobuf answers.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import * as pb from "./gen/hookwire/v1/delivery_pb.js";
import type * as spb from "./gen/hookwire/v1/subscription_pb.js";
import { HookwireError } from "./errors.js";
import { valueToJsonText } from "./payload.js";

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface Subscription {
  id: string;
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

const STATUS: Record<pb.DeliveryStatus, DeliveryStatus | undefined> = {
  [pb.DeliveryStatus.UNSPECIFIED]: undefined,
  [pb.DeliveryStatus.PENDING]: "pending",
  [pb.DeliveryStatus.DELIVERED]: "delivered",
  [pb.DeliveryStatus.FAILED]: "failed",
};

export function statusToProto(status: DeliveryStatus | undefined): pb.DeliveryStatus {
  if (status === undefined) return pb.DeliveryStatus.UNSPECIFIED;
  const found = Object.entries(STATUS).find(([, s]) => s === status);
  if (!found) throw new HookwireError(Code.InvalidArgument, `status: must be "pending", "delivered" or "failed", not ${JSON.stringify(status)}`);
  return Number(found[0]) as pb.DeliveryStatus;
}

/** A field every answer has; its absence means the server broke the contract. */
function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new HookwireError(Code.Internal, `Hookwire's answer has no ${what}`);
  return value;
}

const date = (ts: Timestamp | undefined, what: string): Date => timestampDate(required(ts, what));

export function subscriptionFrom(s: spb.Subscription | undefined): Subscription {
  const sub = required(s, "subscription");
  return {
    id: sub.id,
    url: sub.url,
    events: [...sub.events],
    description: sub.description,
    createdAt: date(sub.createdAt, "subscription.created_at"),
    updatedAt: date(sub.updatedAt, "subscription.updated_at"),
    disabled: sub.disabled,
    disabledReason: sub.disabledReason,
    retries: sub.retries,
    retryDelayMs: sub.retryDelayMs,
    timeoutMs: sub.timeoutMs,
    health: healthFrom(sub.health),
  };
}

const optionalDate = (ts: Timestamp | undefined): Date | null => (ts ? timestampDate(ts) : null);

function healthFrom(h: spb.SubscriptionHealth | undefined): SubscriptionHealth {
  return {
    attemptsSucceeded: Number(h?.attemptsSucceeded ?? 0),
    attemptsFailed: Number(h?.attemptsFailed ?? 0),
    lastSuccessAt: optionalDate(h?.lastSuccessAt),
    lastFailureAt: optionalDate(h?.lastFailureAt),
    lastError: h?.lastError ?? "",
    failingSince: optionalDate(h?.failingSince),
    consecutiveFailures: Number(h?.consecutiveFailures ?? 0),
  };
}

export function deliveryFrom(d: pb.Delivery | undefined): Delivery {
  const del = required(d, "delivery");
  return {
    id: del.id,
    messageId: del.messageId,
    subscriptionId: del.subscriptionId,
    url: del.url,
    event: del.event,
    status: required(STATUS[del.status], `known delivery status (got ${del.status})`),
    attempts: del.attempts.map((a) => ({
      attemptedAt: date(a.attemptedAt, "attempt.attempted_at"),
      durationMs: Number(a.durationMs),
      statusCode: a.statusCode,
      responseExcerpt: a.responseExcerpt,
      error: a.error,
    })),
    createdAt: date(del.createdAt, "delivery.created_at"),
    updatedAt: date(del.updatedAt, "delivery.updated_at"),
    nextAttemptAt: optionalDate(del.nextAttemptAt),
    redeliveryOf: del.redeliveryOf,
  };
}

export function messageFrom(m: pb.Message | undefined): Message {
  const msg = required(m, "message");
  return {
    id: msg.id,
    event: msg.event,
    // Through the JSON text: JSON.parse keeps a "__proto__" key as an ordinary entry.
    payload: JSON.parse(valueToJsonText(msg.payload)) as unknown,
    timestamp: msg.timestamp,
    createdAt: date(msg.createdAt, "message.created_at"),
    idempotencyKey: msg.idempotencyKey,
    deliveries: msg.deliveries,
  };
}
