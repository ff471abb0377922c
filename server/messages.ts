// Message use cases: Trigger and Send store first and answer after; the dispatcher delivers.
import { createHash } from "node:crypto";
import type { DeliveryDefaults } from "./config.js";
import type { Dispatcher } from "./delivery/dispatcher.js";
import { DomainError, invalid, notFound } from "./errors.js";
import { decodePageToken, encodePageToken, newId } from "./ids.js";
import { randomShard, type BatchDoc, type DeliveryDoc, type DeliveryState, type DeliveryStore } from "./store/deliveries.js";
import type { MessageDoc, MessageStore } from "./store/messages.js";
import type { SubscriptionDoc, SubscriptionStore } from "./store/subscriptions.js";
import { validatePolicy, withDefaults, type PolicyOverrides } from "./domain/policy.js";
import { SECRET_PREFIX } from "../sdk/signature.js";
import {
  eventMatches,
  LIMITS,
  pageSize,
  validateEventName,
  validateId,
  validateSecret,
  validateTimestamp,
  validateUrl,
} from "./validation.js";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface MessageDeps {
  messages: MessageStore;
  deliveries: DeliveryStore;
  subscriptions: SubscriptionStore;
  dispatcher: Dispatcher;
  defaults: DeliveryDefaults;
  maxPayloadBytes: number;
  allowPrivateUrls: boolean;
}

/**
 * The body of every delivery, byte-identical on every retry since it is stored as this string; the
 * same text JSON.stringify({ event, payload, timestamp }) gives, built around the payload's JSON so a
 * payload of up to the size limit is serialised once.
 */
export function envelope(event: string, payloadJson: string, timestamp: string): string {
  return `{"event":${JSON.stringify(event)},"payload":${payloadJson},"timestamp":${JSON.stringify(timestamp)}}`;
}

/** The payload's JSON text, refused when it is over the size limit. */
function payloadJson(json: string, maxBytes: number): string {
  const size = Buffer.byteLength(json);
  if (size > maxBytes) {
    throw new DomainError("exhausted", `payload: ${size} bytes is over the limit of ${maxBytes} bytes`);
  }
  return json;
}

function validateIdempotencyKey(key: string): string {
  if (key.length > LIMITS.idempotencyKeyLength) throw invalid("idempotency_key", `is longer than ${LIMITS.idempotencyKeyLength} characters`);
  return key;
}

/** A repeated idempotency key maps to the same message id, so the message insert itself detects the repeat. */
function messageIdFor(tenant: string, idempotencyKey: string): string {
  if (idempotencyKey === "") return newId("msg");
  return `msg_${createHash("sha256").update(`${tenant}\0${idempotencyKey}`).digest("hex").slice(0, 29)}`;
}

/** Where a delivery goes and how it is retried. No secret: an attempt reads it when it is prepared. */
interface NewDelivery {
  subscriptionId: string;
  url: string;
  policy: DeliveryDefaults;
}

function targetOf(sub: SubscriptionDoc, defaults: DeliveryDefaults): NewDelivery {
  return { subscriptionId: sub._id, url: sub.url, policy: withDefaults(sub.policy, defaults) };
}

function deliveryDocs(deps: MessageDeps, tenant: string, messageId: string, event: string, targets: NewDelivery[], redeliveryOf?: string): DeliveryDoc[] {
  const now = new Date();
  const leaseUntil = deps.dispatcher.leaseUntil(now.getTime());
  return targets.map((t) => ({
    _id: newId("dlv"),
    tenant,
    messageId,
    subscriptionId: t.subscriptionId,
    url: t.url,
    event,
    policy: t.policy,
    status: "pending",
    attempts: [],
    createdAt: now,
    updatedAt: now,
    nextAttemptAt: now,
    shard: randomShard(),
    // Leased to this process, which dispatches them from memory at once; if it dies the lease runs out.
    leaseOwner: deps.dispatcher.owner,
    leaseUntil,
    ...(redeliveryOf ? { redeliveryOf } : {}),
  }));
}

/** A batch row stays well under MongoDB's 16 MB document limit (a delivery is about 500 bytes). */
const BATCH_DELIVERIES = 500;

/**
 * Stores the deliveries (batch rows), then the message: the message insert is the commit point.
 * If it fails the caller gets an error, and deliveries without a message are dropped by the
 * dispatcher as never accepted. If it finds the id taken, the idempotency key was used before and
 * the new deliveries go.
 */
async function store(deps: MessageDeps, message: MessageDoc, docs: DeliveryDoc[]): Promise<MessageDoc | undefined> {
  // The deliveries go into batch rows (the fast path): each gets a queue row only if it needs a retry.
  const batches: BatchDoc[] = [];
  for (let i = 0; i < docs.length; i += BATCH_DELIVERIES) {
    const chunk = docs.slice(i, i + BATCH_DELIVERIES);
    const first = chunk[0]!;
    batches.push({
      _id: newId("bat"),
      tenant: message.tenant,
      messageId: message._id,
      shard: randomShard(),
      leaseOwner: first.leaseOwner,
      leaseUntil: first.leaseUntil,
      createdAt: first.createdAt,
      deliveries: chunk,
    });
  }
  await Promise.all(batches.map((b) => deps.deliveries.enqueueBatch(b)));
  if (await deps.messages.insert(message)) {
    for (const b of batches) deps.dispatcher.submit(b.deliveries, message.body, b._id);
    return undefined;
  }
  await deps.deliveries.dropBatches(batches.map((b) => b._id));
  const existing = await deps.messages.byId(message._id);
  if (!existing) throw new DomainError("unavailable", "idempotency_key: the first request with this key is still being stored; try again");
  return existing;
}

export interface TriggerInput {
  event: string;
  /** JSON text. */
  payload: string;
  idempotencyKey: string;
}

export async function trigger(deps: MessageDeps, tenant: string, input: TriggerInput): Promise<{ messageId: string; deliveries: number }> {
  const event = validateEventName(input.event);
  validateIdempotencyKey(input.idempotencyKey);
  const payload = payloadJson(input.payload, deps.maxPayloadBytes);
  const messageId = messageIdFor(tenant, input.idempotencyKey);
  if (input.idempotencyKey !== "") {
    const existing = await deps.messages.get(tenant, messageId);
    if (existing) return { messageId, deliveries: existing.deliveries };
  }
  const subs = (await deps.subscriptions.active(tenant)).filter((s) => eventMatches(s.events, event));
  const body = envelope(event, payload, new Date().toISOString());
  const docs = deliveryDocs(
    deps,
    tenant,
    messageId,
    event,
    subs.map((s) => targetOf(s, deps.defaults)),
  );
  const message: MessageDoc = {
    _id: messageId,
    tenant,
    event,
    body,
    idempotencyKey: input.idempotencyKey,
    deliveries: docs.length,
    createdAt: new Date(),
  };
  const earlier = await store(deps, message, docs);
  return earlier ? { messageId, deliveries: earlier.deliveries } : { messageId, deliveries: docs.length };
}

export interface SendInput extends PolicyOverrides {
  url: string;
  event: string;
  /** JSON text. */
  payload: string;
  timestamp: string;
  secret: string;
  idempotencyKey: string;
}

/** Stores one delivery to one URL and waits for its final outcome (or the signal). */
export async function send(
  deps: MessageDeps,
  tenant: string,
  input: SendInput,
  signal: AbortSignal,
): Promise<{ messageId: string; delivery: DeliveryDoc }> {
  const url = validateUrl(input.url, deps.allowPrivateUrls);
  const event = validateEventName(input.event, "payload.event");
  if (input.secret === "") throw invalid("secret", "is required to sign the request");
  if (input.secret.length > 512) throw invalid("secret", "is longer than 512 characters");
  // A whsec_ secret signs webhook-signature too, so it must be one a receiver library can decode.
  if (input.secret.startsWith(SECRET_PREFIX)) validateSecret(input.secret);
  validateIdempotencyKey(input.idempotencyKey);
  const payload = payloadJson(input.payload, deps.maxPayloadBytes);
  const timestamp = input.timestamp === "" ? new Date().toISOString() : validateTimestamp(input.timestamp, "payload.timestamp");
  const policy = withDefaults(validatePolicy(input), deps.defaults);
  const messageId = messageIdFor(tenant, input.idempotencyKey);
  const body = envelope(event, payload, timestamp);
  const docs = deliveryDocs(deps, tenant, messageId, event, [{ subscriptionId: "", url, policy }]);
  const doc = docs[0]!;
  const message: MessageDoc = { _id: messageId, tenant, event, body, idempotencyKey: input.idempotencyKey, deliveries: 1, createdAt: new Date() };
  const outcome = deps.dispatcher.finished(doc._id, signal);
  outcome.catch(() => undefined);
  // Before the commit point (the message insert), so an accepted Send can always be signed.
  await deps.deliveries.keepSendSecret(tenant, doc._id, input.secret);
  const earlier = await store(deps, message, docs);
  if (earlier) {
    await deps.deliveries.dropSendSecrets([doc._id]);
    // A repeated key: answer the first Send's delivery as it stands now.
    const first = await deps.deliveries.list({ tenant, messageId, limit: 1 });
    if (!first[0]) throw notFound("idempotency_key", "delivery of message", messageId);
    return { messageId, delivery: first[0] };
  }
  return { messageId, delivery: await outcome };
}

export async function getMessage(deps: MessageDeps, tenant: string, id: string): Promise<MessageDoc> {
  validateId(id, "msg");
  const doc = await deps.messages.get(tenant, id);
  if (!doc) throw notFound("id", "message", id);
  return doc;
}

export interface ListDeliveriesInput {
  messageId: string;
  subscriptionId: string;
  status: DeliveryState | undefined;
  pageSize: number;
  pageToken: string;
}

export async function listDeliveries(
  deps: MessageDeps,
  tenant: string,
  input: ListDeliveriesInput,
): Promise<{ deliveries: DeliveryDoc[]; nextPageToken: string }> {
  if ((input.messageId === "") === (input.subscriptionId === "")) {
    throw invalid("message_id", "set exactly one of message_id and subscription_id");
  }
  if (input.messageId) validateId(input.messageId, "msg", "message_id");
  if (input.subscriptionId) validateId(input.subscriptionId, "sub", "subscription_id");
  const size = pageSize(input.pageSize);
  const rows = await deps.deliveries.list({
    tenant,
    messageId: input.messageId || undefined,
    subscriptionId: input.subscriptionId || undefined,
    status: input.status,
    afterId: decodePageToken(input.pageToken, "dlv"),
    limit: size + 1,
  });
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  return { deliveries: page, nextPageToken: rows.length > size && last ? encodePageToken(last._id) : "" };
}

/** A finished delivery's message, delivered again as a new delivery (to the subscription's current URL, signed with its current secret). */
export async function redeliver(deps: MessageDeps, tenant: string, deliveryId: string): Promise<DeliveryDoc> {
  validateId(deliveryId, "dlv", "delivery_id");
  const old = await deps.deliveries.get(tenant, deliveryId);
  if (!old) throw notFound("delivery_id", "delivery", deliveryId);
  if (old.status === "pending") throw new DomainError("failed_precondition", `delivery_id: delivery "${deliveryId}" is still pending`);
  const message = await deps.messages.get(tenant, old.messageId);
  if (!message) throw notFound("delivery_id", "message", old.messageId);
  if (!old.subscriptionId) {
    throw new DomainError(
      "failed_precondition",
      `delivery_id: delivery "${deliveryId}" was made by Send, whose secret is kept only until its delivery ends; call Send again`,
    );
  }
  const sub: SubscriptionDoc | null = await deps.subscriptions.get(tenant, old.subscriptionId);
  if (!sub) throw new DomainError("failed_precondition", `delivery_id: subscription "${old.subscriptionId}" was deleted`);
  const docs = deliveryDocs(deps, tenant, message._id, message.event, [targetOf(sub, deps.defaults)], old._id);
  await deps.deliveries.enqueue(docs);
  deps.dispatcher.submit(docs, message.body);
  return docs[0]!;
}
