// Message use cases: Trigger and Send store first and answer after; the engine delivers.
import { createHash } from "node:crypto";
import type { DeliveryDefaults } from "../domain/policy.js";
import type { EgressAllowList } from "../domain/egress.js";
import { DomainError, invalid, notFound } from "../domain/errors.js";
import { decodePageToken, encodePageToken, newId } from "../domain/ids.js";
import type { HookwireMetrics } from "../telemetry/metrics.js";
import type { Audience, Delivery, DeliveryLog, Dispatch, DeliveryQueue, DeliveryState, Message, Messages, Recoveries, SendSecrets, Subscription, Subscriptions } from "../ports.js";
import { validatePolicy, withDefaults, type PolicyOverrides } from "../domain/policy.js";
import type { Quotas } from "./quotas.js";
import { checkPayload, type CatalogDeps } from "./catalog.js";
import { findSubscription } from "./subscriptions.js";
import { SECRET_PREFIX } from "@hookwire/sdk/internal";
import {
  eventMatches,
  LIMITS,
  pageSize,
  validateCallerEvent,
  validateId,
  validateSecret,
  validateTimestamp,
  validateOwner,
  validateUrl,
} from "../domain/validation.js";

export interface MessageDeps {
  messages: Messages;
  queue: DeliveryQueue;
  log: DeliveryLog;
  sendSecrets: SendSecrets;
  subscriptions: Subscriptions;
  recoveries: Recoveries;
  engine: Dispatch;
  /** Where Triggers are counted, by tenant and outcome. */
  metrics: HookwireMetrics;
  defaults: DeliveryDefaults;
  maxPayloadBytes: number;
  allowPrivateUrls: boolean;
  quotas: Quotas;
  /** HOOKWIRE_EGRESS_ALLOW (egress.ts). */
  egressAllow?: EgressAllowList;
  /** The event type catalog, whose schemas Triggers are checked against. */
  catalog: CatalogDeps;
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

/** Where a delivery goes, whose it is and how it is retried. No secret: an attempt reads it when it is prepared. */
interface NewDelivery {
  subscriptionId: string;
  /** The subscription's owner ("" for the tenant's own, and for Send). */
  owner: string;
  url: string;
  policy: DeliveryDefaults;
}

function targetOf(sub: Subscription, defaults: DeliveryDefaults): NewDelivery {
  return { subscriptionId: sub._id, owner: sub.owner, url: sub.url, policy: withDefaults(sub.policy, defaults) };
}

function newDeliveries(tenant: string, messageId: string, event: string, targets: NewDelivery[], redeliveryOf?: string): Delivery[] {
  const now = new Date();
  return targets.map((t) => ({
    _id: newId("dlv"),
    tenant,
    messageId,
    subscriptionId: t.subscriptionId,
    owner: t.owner,
    url: t.url,
    event,
    policy: t.policy,
    status: "pending",
    attempts: [],
    createdAt: now,
    updatedAt: now,
    nextAttemptAt: now,
    ...(redeliveryOf ? { redeliveryOf } : {}),
  }));
}

/**
 * Stores the message and its deliveries, which this process then starts at once. If the message id
 * is taken, the idempotency key was used before: answers that first message, and nothing new is kept.
 */
async function store(deps: MessageDeps, message: Message, deliveries: Delivery[]): Promise<Message | undefined> {
  const res = await deps.queue.accept(message, deliveries);
  if ("held" in res) {
    deps.engine.submit(res.held, message.body);
    return undefined;
  }
  if (!res.earlier) throw new DomainError("unavailable", "idempotency_key: the first request with this key is still being stored; try again");
  return res.earlier;
}

export interface TriggerInput {
  event: string;
  /** JSON text. */
  payload: string;
  idempotencyKey: string;
  /** Whose event it is: only that owner's subscriptions ("" : only the tenant's own). */
  owner: string;
  /** An announcement to every owner at once (owner must then be empty). */
  allOwners: boolean;
}

/** Counts each Trigger by its outcome: accepted, a repeated idempotency key, or refused (it threw). */
export async function trigger(deps: MessageDeps, tenant: string, input: TriggerInput): Promise<{ messageId: string; deliveries: number }> {
  try {
    const answer = await storeTrigger(deps, tenant, input);
    deps.metrics.trigger(tenant, answer.repeated ? "repeated" : "accepted");
    return answer;
  } catch (err) {
    deps.metrics.trigger(tenant, "refused");
    throw err;
  }
}

async function storeTrigger(deps: MessageDeps, tenant: string, input: TriggerInput): Promise<{ messageId: string; deliveries: number; repeated: boolean }> {
  // First: a tenant over its rate is refused before any work is done for it. Hookwire's own operational
  // events (triggerOperational) are not the caller's and take nothing.
  deps.quotas.takeTrigger(tenant);
  const event = validateCallerEvent(input.event);
  validateIdempotencyKey(input.idempotencyKey);
  const owner = validateOwner(input.owner);
  if (input.allOwners && owner !== "") throw invalid("all_owners", "is for an event to every owner; leave owner empty with it");
  const audience: Audience = input.allOwners ? "all-owners" : { owner };
  const payload = payloadJson(input.payload, deps.maxPayloadBytes);
  // Costs nothing unless the tenant's catalog gives this event a schema (catalog.ts).
  await checkPayload(deps.catalog, tenant, event, payload);
  return triggerChecked(deps, tenant, event, payload, input.idempotencyKey, audience);
}

/**
 * One of Hookwire's own operational events (server/domain/operational-events.ts), triggered in the
 * tenant like any message: stored, then delivered, signed and retried to the subscriptions naming it,
 * of the owner the event is about only (the endpoint's or the delivery's owner; "" for the tenant's own).
 * `skip`: a subscription not to tell (the one the event is about).
 */
export function triggerOperational(
  deps: MessageDeps,
  tenant: string,
  owner: string,
  event: string,
  payload: object,
  skip = "",
): Promise<{ messageId: string; deliveries: number }> {
  return triggerChecked(deps, tenant, event, JSON.stringify(payload), "", { owner }, true, skip);
}

async function triggerChecked(
  deps: MessageDeps,
  tenant: string,
  event: string,
  payload: string,
  idempotencyKey: string,
  audience: Audience,
  operational = false,
  skip = "",
): Promise<{ messageId: string; deliveries: number; repeated: boolean }> {
  // Only the audience's subscriptions are read: an owner's Trigger costs what that owner holds.
  const subs = (await deps.subscriptions.active(tenant, audience)).filter((s) => s._id !== skip && eventMatches(s.events, event));
  // An operational event nobody subscribed to is not stored: a storm of failures costs no writes for it.
  if (operational && subs.length === 0) return { messageId: "", deliveries: 0, repeated: false };
  const stored = await storeMessage(deps, tenant, event, payload, idempotencyKey, audience, subs);
  return { messageId: stored.messageId, deliveries: stored.deliveries, repeated: stored.repeated };
}

/**
 * The one way a message is stored for subscriptions (Trigger, operational events, SendTestEvent): the
 * message with one delivery per subscription, started here. A repeated idempotency key answers the first
 * message's count, and nothing new is kept.
 */
async function storeMessage(
  deps: MessageDeps,
  tenant: string,
  event: string,
  payload: string,
  idempotencyKey: string,
  audience: Audience,
  subs: Subscription[],
): Promise<{ messageId: string; deliveries: number; repeated: boolean; docs: Delivery[] }> {
  // A repeated key is found by the message insert itself (the store answers the earlier message), not
  // by a read first: the SDK sends a key with every Trigger, and a read each would cost more than repeats save.
  const messageId = messageIdFor(tenant, idempotencyKey);
  const body = envelope(event, payload, new Date().toISOString());
  const docs = newDeliveries(
    tenant,
    messageId,
    event,
    subs.map((s) => targetOf(s, deps.defaults)),
  );
  const message: Message = {
    _id: messageId,
    tenant,
    event,
    body,
    idempotencyKey,
    deliveries: docs.length,
    createdAt: new Date(),
    ...(audience === "all-owners" ? { allOwners: true } : audience.owner !== "" ? { owner: audience.owner } : {}),
  };
  const earlier = await store(deps, message, docs);
  return earlier ? { messageId, deliveries: earlier.deliveries, repeated: true, docs: [] } : { messageId, deliveries: docs.length, repeated: false, docs };
}

export interface TestEventInput {
  subscriptionId: string;
  event: string;
  /** JSON text; undefined: the event type's example. */
  payload: string | undefined;
}

/**
 * One event to one subscription only, whatever its event patterns (a customer trying its endpoint): the
 * payload given or the catalog's example, checked against the event type's schema as a Trigger's is,
 * stored as the subscription's owner's message and delivered like any other. A Trigger's rate quota.
 */
export async function sendTestEvent(deps: MessageDeps, tenant: string, input: TestEventInput): Promise<{ messageId: string; delivery: Delivery }> {
  deps.quotas.takeTrigger(tenant);
  const event = validateCallerEvent(input.event);
  const sub = await findSubscription({ store: deps.subscriptions }, tenant, input.subscriptionId, "subscription_id");
  if (sub.disabled) throw new DomainError("failed_precondition", `subscription_id: subscription "${sub._id}" is disabled; enable it to send it a test event`);
  let json = input.payload;
  if (json === undefined) {
    json = (await deps.catalog.store.get(tenant, event))?.example;
    if (json === undefined) throw invalid("payload", `is required: event type "${event}" has no example in the catalog to send instead`);
  }
  const payload = payloadJson(json, deps.maxPayloadBytes);
  await checkPayload(deps.catalog, tenant, event, payload);
  const stored = await storeMessage(deps, tenant, event, payload, "", { owner: sub.owner }, [sub]);
  return { messageId: stored.messageId, delivery: stored.docs[0]! };
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
): Promise<{ messageId: string; delivery: Delivery }> {
  // A Send is a message and a delivery like a Trigger's: the same rate quota.
  deps.quotas.takeTrigger(tenant);
  const url = validateUrl(input.url, deps.allowPrivateUrls, "url", deps.egressAllow);
  const event = validateCallerEvent(input.event, "payload.event");
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
  const docs = newDeliveries(tenant, messageId, event, [{ subscriptionId: "", owner: "", url, policy }]);
  const doc = docs[0]!;
  const message: Message = { _id: messageId, tenant, event, body, idempotencyKey: input.idempotencyKey, deliveries: 1, createdAt: new Date() };
  const outcome = deps.engine.finished(tenant, doc._id, signal);
  outcome.catch(() => undefined);
  // Before the commit point (the message insert), so an accepted Send can always be signed.
  await deps.sendSecrets.keep(tenant, doc._id, input.secret);
  const earlier = await store(deps, message, docs);
  if (earlier) {
    await deps.sendSecrets.drop([doc._id]);
    // A repeated key: answer the first Send's delivery as it stands now.
    const first = await deps.log.list({ tenant, messageId, limit: 1 });
    if (!first[0]) throw notFound("idempotency_key", "delivery of message", messageId);
    return { messageId, delivery: first[0] };
  }
  return { messageId, delivery: await outcome };
}

export async function getMessage(deps: MessageDeps, tenant: string, id: string): Promise<Message> {
  validateId(id, "msg");
  const doc = await deps.messages.get(tenant, id);
  if (!doc) throw notFound("id", "message", id);
  return doc;
}

/**
 * Whether a message was for `owner` (never ""): an event for that owner, or an announcement to every
 * owner that went to one of its endpoints. (A redelivery keeps its message, so is covered too.)
 */
export async function messageReached(deps: MessageDeps, message: Message, owner: string): Promise<boolean> {
  if (message.owner === owner) return true;
  if (!message.allOwners) return false;
  return (await deps.log.list({ tenant: message.tenant, messageId: message._id, owner, limit: 1 })).length > 0;
}

/** A delivery of the tenant by id; `field` names the request field that carried it. */
export async function findDelivery(deps: MessageDeps, tenant: string, id: string, field = "delivery_id"): Promise<Delivery> {
  validateId(id, "dlv", field);
  const doc = await deps.log.get(tenant, id);
  if (!doc) throw notFound(field, "delivery", id);
  return doc;
}

export interface ListDeliveriesInput {
  messageId: string;
  subscriptionId: string;
  /** Only deliveries to this owner's subscriptions, when set. */
  owner: string;
  status: DeliveryState | undefined;
  pageSize: number;
  pageToken: string;
  /** Newest first (ListOrder); the page token then holds the last id answered, and the next page is before it. */
  newestFirst?: boolean;
}

export async function listDeliveries(
  deps: MessageDeps,
  tenant: string,
  input: ListDeliveriesInput,
): Promise<{ deliveries: Delivery[]; nextPageToken: string }> {
  // With neither, every delivery of the tenant (its failed ones across subscriptions, usually).
  if (input.messageId !== "" && input.subscriptionId !== "") {
    throw invalid("message_id", "set at most one of message_id and subscription_id");
  }
  if (input.messageId) validateId(input.messageId, "msg", "message_id");
  if (input.subscriptionId) validateId(input.subscriptionId, "sub", "subscription_id");
  const owner = validateOwner(input.owner);
  const size = pageSize(input.pageSize);
  const newestFirst = input.newestFirst === true;
  // The token is the last id answered: the next page starts past it in the order asked for.
  const cursor = decodePageToken(input.pageToken, "dlv");
  const fetched = await deps.log.list({
    tenant,
    messageId: input.messageId || undefined,
    subscriptionId: input.subscriptionId || undefined,
    owner: owner || undefined,
    status: input.status,
    ...(newestFirst ? { beforeId: cursor, newestFirst } : { afterId: cursor }),
    limit: size + 1,
  });
  const page = await withRedeliveries(deps, tenant, fetched.slice(0, size));
  const last = page[page.length - 1];
  return { deliveries: page, nextPageToken: fetched.length > size && last ? encodePageToken(last._id) : "" };
}

/**
 * The page with each finished delivery that was redelivered naming its newest redelivery (read from the
 * recovery marks by id: the page's own rows only, never a walk of the marks).
 */
async function withRedeliveries(deps: MessageDeps, tenant: string, page: Delivery[]): Promise<Delivery[]> {
  const finished = page.filter((d) => d.status !== "pending").map((d) => d._id);
  if (finished.length === 0) return page;
  const made = await deps.recoveries.redeliveries(tenant, finished);
  if (made.size === 0) return page;
  return page.map((d) => (made.has(d._id) ? { ...d, redeliveredAs: made.get(d._id)! } : d));
}

/** A finished delivery's message, delivered again as a new delivery (to the subscription's current URL, signed with its current secret). */
export async function redeliver(deps: MessageDeps, tenant: string, deliveryId: string): Promise<Delivery> {
  const old = await findDelivery(deps, tenant, deliveryId);
  if (old.status === "pending") throw new DomainError("failed_precondition", `delivery_id: delivery "${deliveryId}" is still pending`);
  const message = await deps.messages.get(tenant, old.messageId);
  if (!message) throw notFound("delivery_id", "message", old.messageId);
  if (!old.subscriptionId) {
    throw new DomainError(
      "failed_precondition",
      `delivery_id: delivery "${deliveryId}" was made by Send, whose secret is kept only until its delivery ends; call Send again`,
    );
  }
  const sub: Subscription | null = await deps.subscriptions.get(tenant, old.subscriptionId);
  if (!sub) throw new DomainError("failed_precondition", `delivery_id: subscription "${old.subscriptionId}" was deleted`);
  const docs = redeliveriesOf(deps, sub, [old]);
  await startRedeliveries(deps, docs, message.body);
  // Linked after it is stored, so a link never names a delivery that is not there; the original then
  // shows as handled, and a RecoverDeliveries over it leaves it be. A failure here leaves the
  // redelivery made but unlinked, which is what every redelivery was before links.
  await deps.recoveries.link(tenant, old._id, docs[0]!._id);
  return docs[0]!;
}

/**
 * The redeliveries of finished deliveries of `sub` (Redeliver's one, RecoverDeliveries' many): each a
 * new delivery of the same message to the subscription as it is now, naming the delivery it redelivers.
 */
export function redeliveriesOf(deps: MessageDeps, sub: Subscription, olds: Delivery[]): Delivery[] {
  const target = targetOf(sub, deps.defaults);
  return olds.flatMap((old) => newDeliveries(sub.tenant, old.messageId, old.event, [target], old._id));
}

/**
 * Stores redeliveries and starts them here. `body` is their message's when they share one the caller
 * has at hand; without it each attempt reads its message's body when it starts, as for any taken work.
 */
export async function startRedeliveries(deps: MessageDeps, docs: Delivery[], body?: string): Promise<void> {
  deps.engine.submit(await deps.queue.add(docs), body);
}
