// The SDK's answers (types.ts) made from the protobuf answers: plain objects a TypeScript user expects
// (numbers, Dates, the payload as the JSON that was sent, string unions), each safe for JSON.stringify.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import * as pb from "./gen/hookwire/v1/delivery_pb.js";
import type * as spb from "./gen/hookwire/v1/subscription_pb.js";
import type * as epb from "./gen/hookwire/v1/event_type_pb.js";
import { HookwireError } from "./errors.js";
import { valueToJsonText } from "./payload.js";

import type { CreatePortalSessionResponse } from "./gen/hookwire/v1/portal_pb.js";
import type { Delivery, DeliveryStatus, EventType, Message, PortalSession, Subscription, SubscriptionHealth } from "./types.js";

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
    owner: sub.owner,
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
    // A copy with an ordinary prototype (the decoded map's may be null), so it prints and compares as expected.
    headers: { ...sub.headers },
    rateLimitPerSecond: sub.rateLimitPerSecond,
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
    owner: del.owner,
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
    owner: msg.owner,
    allOwners: msg.allOwners,
  };
}

export function eventTypeFrom(e: epb.EventType | undefined): EventType {
  const et = required(e, "event type");
  const out: EventType = {
    name: et.name,
    description: et.description,
    schema: et.schema ?? null,
    createdAt: optionalDate(et.createdAt),
    updatedAt: optionalDate(et.updatedAt),
    builtin: et.builtin,
  };
  // Through the JSON text, as a message's payload is.
  if (et.example) out.example = JSON.parse(valueToJsonText(et.example)) as unknown;
  return out;
}

export function portalSessionFrom(res: CreatePortalSessionResponse): PortalSession {
  return { token: res.token, url: res.url, expiresAt: date(res.expiresAt, "expires_at") };
}
