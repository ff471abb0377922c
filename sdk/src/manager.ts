// createWebhookManager: the seed WebhookManager interface (send, sign, verify) backed by Hookwire,
// plus a typed call for every other RPC, answering the plain types of types.ts.
import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate, type Value } from "@bufbuild/protobuf/wkt";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { SignatureScheme } from "./gen/hookwire/v1/signature_pb.js";
import { PortalColorScheme } from "./gen/hookwire/v1/portal_pb.js";
import { WebhookService } from "./gen/hookwire/v1/webhook_service_pb.js";
import { DeliveryFailedError, HookwireError, InvalidArgumentError, UnavailableError } from "./errors.js";
import { PayloadError, valueFromJson } from "./payload.js";
import { deliveryFrom, eventTypeFrom, messageFrom, portalSessionFrom, statusToProto, subscriptionFrom } from "./results.js";
import type {
  Delivery,
  DeliveryPage,
  DeliveryStatus,
  EventType,
  EventTypePage,
  Message,
  PortalSession,
  Registered,
  Rotated,
  Subscription,
  SubscriptionPage,
  TestEvent,
  Triggered,
  Verified,
} from "./types.js";
import { signGithub, verifyGithub } from "./node/signature.js";
import type { Body } from "./rules/signature.js";
import { createHookwireTransport, type TransportOptions } from "./transport.js";

export interface WebhookPayload {
  event: string;
  payload: unknown;
  timestamp: string;
}

/** The interface Hookwire started from. */
export interface WebhookManager {
  send(url: string, payload: WebhookPayload, secret?: string): Promise<void>;
  verify(body: string, signature: string, secret: string): boolean;
  sign(body: string, secret: string): string;
}

export interface WebhookManagerOptions extends TransportOptions {
  /** Default secret for send(). */
  secret?: string;
  /** Delivery retries after the first attempt, for send() (server default 3). */
  retries?: number;
  /** First delivery retry delay in ms, for send() (server default 1000); later ones back off exponentially. */
  retryDelay?: number;
  /** Per-attempt delivery timeout in ms, for send() (server default 10 000). */
  timeout?: number;
  /**
   * How often a call that cannot change anything twice is tried again when Hookwire is unavailable
   * (default 2): reads, Sign, Verify and Trigger, which carries an idempotency key for it.
   */
  rpcRetries?: number;
  /** Talk over this transport instead of one made from baseUrl, apiKey and protocol. */
  transport?: Transport;
}

export type SchemeName = "github" | "standard-webhooks";

export interface RegisterInput {
  url: string;
  /**
   * The platform's customer this endpoint is for (your user or account id, 1-256 printable characters):
   * a Trigger for that owner reaches it, one for any other owner never does. Unset: the tenant's own.
   */
  owner?: string;
  /** Event patterns; "*" or none for every event. */
  events?: string[];
  /** Generated ("whsec_" + 32 random bytes) when unset. */
  secret?: string;
  description?: string;
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  /**
   * Extra request headers for every delivery, e.g. your customer's own token for its endpoint (at most 20,
   * 8 KiB in all; names Hookwire sets, such as `webhook-*` and `content-type`, are refused). Sealed at rest;
   * answers other than `getSubscription` show the values masked as "********".
   */
  headers?: Record<string, string>;
  /** At most this many attempts a second to the endpoint, retries included (1-10000; unset or 0: no limit). Enforced per Hookwire process. */
  rateLimitPerSecond?: number;
}

export interface UpdateInput {
  id: string;
  url?: string;
  /** Replaces the patterns when non-empty. */
  events?: string[];
  description?: string;
  /** false re-enables a disabled subscription. */
  disabled?: boolean;
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  /** Replaces every extra header with these (a name left out is removed); `{}` removes them all; unset keeps them. */
  headers?: Record<string, string>;
  /** The new limit of attempts a second (1-10000); 0 lifts it; unset keeps it. */
  rateLimitPerSecond?: number;
}

export interface ListDeliveriesInput {
  /** At most one of messageId and subscriptionId; with neither, every delivery of the tenant (with `status: "failed"`, its failed ones across subscriptions). */
  messageId?: string;
  subscriptionId?: string;
  /** Only deliveries to this owner's subscriptions. */
  owner?: string;
  status?: DeliveryStatus;
  pageSize?: number;
  pageToken?: string;
}

export interface RecoverDeliveriesInput {
  subscriptionId: string;
  /** Failed deliveries created at or after this time are redelivered. */
  since: Date;
  /** Most redelivered by one call (default 100, at most 1000). */
  limit?: number;
  /** The previous call's `nextPageToken`, to go on where it stopped. */
  pageToken?: string;
}

export interface CreateEventTypeInput {
  /** The event's name as trigger() takes it, e.g. "order.created". */
  name: string;
  description?: string;
  /** A JSON Schema (draft 2020-12, or draft-07 when its "$schema" says so) that every trigger() of the event must satisfy. */
  schema?: Record<string, unknown>;
  /** An example payload; it must satisfy the schema. */
  example?: unknown;
}

export interface UpdateEventTypeInput {
  name: string;
  description?: string;
  /** Replaces the schema; null removes it (payloads are then not checked). */
  schema?: Record<string, unknown> | null;
  /** Replaces the example; null removes it. */
  example?: unknown;
}

export interface CreatePortalSessionInput {
  /** The customer the portal is for (your user or account id, as `register({ owner })` takes it): required. */
  owner: string;
  /** How long the session lasts, in seconds: 1 to 86400 (a day); unset or 0, an hour. */
  ttlSeconds?: number;
  /** How the portal looks, to match your site around it; each field unset keeps the portal's default. */
  theme?: {
    /** "#rrggbb". */
    accentColor?: string;
    /** An https: URL, or a data:image/(png|jpeg|gif|webp|svg+xml);base64 URL of at most 32 KiB. */
    logoUrl?: string;
    /** Unset: the browser's preference. */
    colorScheme?: "light" | "dark";
    /** The portal's heading (at most 100 characters); "Webhooks" when unset. */
    title?: string;
  };
}

export interface SendTestEventInput {
  subscriptionId: string;
  /** The event's name, e.g. "order.created" (whatever events the subscription takes). */
  event: string;
  /** A JSON object; unset, the event type's example from the catalog. */
  payload?: Record<string, unknown>;
}

export interface SignInput {
  body: Body;
  secret: string;
  /** Default "github". */
  scheme?: SchemeName;
  /** Standard Webhooks only. */
  webhookId?: string;
  /** Standard Webhooks only: Unix seconds. */
  timestamp?: number;
}

export interface VerifyInput extends SignInput {
  signature: string;
  /** Standard Webhooks only (default 300). */
  toleranceSeconds?: number;
}

/**
 * What send() resolves to: the delivery. Typed as `void &` so that a HookwireManager still is the seed's
 * WebhookManager, whose send() resolves to void; it reads as a Delivery.
 */
export type SentDelivery = void & Delivery;

export interface HookwireManager extends WebhookManager {
  /** Delivers one request to `url` now, with retries; resolves to the delivered delivery, else throws DeliveryFailedError. */
  send(url: string, payload: WebhookPayload, secret?: string): Promise<SentDelivery>;
  register(input: RegisterInput): Promise<Registered>;
  getSubscription(id: string): Promise<Subscription>;
  /** The tenant's subscriptions, or with `owner` only that owner's. */
  listSubscriptions(input?: { pageSize?: number; pageToken?: string; owner?: string }): Promise<SubscriptionPage>;
  updateSubscription(input: UpdateInput): Promise<Subscription>;
  deleteSubscription(id: string): Promise<void>;
  /** A new secret (generated unless given); the old one keeps signing beside it for previousSecretTtlSeconds (default a day). */
  rotateSecret(id: string, options?: { secret?: string; previousSecretTtlSeconds?: number }): Promise<Rotated>;
  /**
   * Stores the event for the matching subscriptions of one owner (`{ owner }`: your customer's; without
   * it, the tenant's own subscriptions only), or of every owner with `{ allOwners: true }`; delivery
   * happens after. Without a key, one is made per call, so the SDK's own retries never store it twice.
   * A string third argument is the idempotency key.
   */
  trigger(event: string, payload?: unknown, options?: string | { owner?: string; allOwners?: boolean; idempotencyKey?: string }): Promise<Triggered>;
  getMessage(id: string): Promise<Message>;
  listDeliveries(input: ListDeliveriesInput): Promise<DeliveryPage>;
  /** Delivers a finished delivery's message again, as a new delivery. */
  redeliver(deliveryId: string): Promise<Delivery>;
  /**
   * Redelivers a subscription's failed deliveries created since a time, at most `limit` a call: the
   * answer holds the new deliveries, and `nextPageToken` is empty once the range is done. Each failed
   * delivery is redelivered once however often the range is recovered, so a call is safe to repeat.
   */
  recoverDeliveries(input: RecoverDeliveriesInput): Promise<DeliveryPage>;
  /** Delivery outcomes as they happen, until the signal aborts. */
  watchDeliveries(options?: { subscriptionId?: string; owner?: string; signal?: AbortSignal }): AsyncIterable<Delivery>;
  /**
   * Adds an event type to the tenant's catalog. With a schema, every trigger() of the event is checked
   * against it and refused with InvalidArgumentError naming the failing place ("payload/items/0/price: must be number").
   */
  createEventType(input: CreateEventTypeInput): Promise<EventType>;
  getEventType(name: string): Promise<EventType>;
  /** The tenant's event types and Hookwire's built-ins, in name order. */
  listEventTypes(input?: { pageSize?: number; pageToken?: string }): Promise<EventTypePage>;
  /** Changes the fields given; the next trigger() anywhere is checked against a new schema. */
  updateEventType(input: UpdateEventTypeInput): Promise<EventType>;
  deleteEventType(name: string): Promise<void>;
  /**
   * A customer portal session for one owner: open `url` (or put it in an iframe) and that customer manages
   * its own endpoints, and nothing else, until the session expires or is revoked. `token` is the session's
   * credential (it is also in `url`'s fragment): keep it as you would a password, or not at all.
   */
  createPortalSession(input: CreatePortalSessionInput): Promise<PortalSession>;
  /** Ends every portal session of the owner at once (on every Hookwire process); resolves to how many were live. */
  revokePortalSessions(owner: string): Promise<number>;
  /**
   * Sends one event to one subscription only, whatever events it takes: `payload`, or the event type's
   * example; checked against the event type's schema as trigger() is. Resolves once it is stored, with
   * its delivery (pending).
   */
  sendTestEvent(input: SendTestEventInput): Promise<TestEvent>;
  /** The Sign RPC (the local sign() gives the same for the GitHub style). */
  signRemote(input: SignInput): Promise<string>;
  verifyRemote(input: VerifyInput): Promise<Verified>;
  /** The generated client on the same authenticated transport, for anything else. */
  readonly client: Client<typeof WebhookService>;
  readonly transport: Transport;
}

/**
 * Any JSON-serialisable value as a google.protobuf.Value (Dates become strings, undefined fields drop,
 * as in JSON; a "__proto__" key from JSON.parse is kept).
 */
function toValue(payload: unknown): Value {
  const json = payload === undefined ? null : (JSON.parse(JSON.stringify(payload)) as unknown);
  try {
    return valueFromJson(json);
  } catch (err) {
    if (err instanceof PayloadError) throw new InvalidArgumentError(`payload: ${err.message}`);
    throw err;
  }
}

/** An object as a Struct field takes it (a JSON Schema, a test event's payload): plain JSON (a Date becomes a string, as in JSON). */
function toStruct(value: Record<string, unknown>, field: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidArgumentError(`${field}: must be a JSON object`);
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}

const toSchema = (schema: Record<string, unknown>) => toStruct(schema, "schema");

const COLOR_SCHEMES: Record<string, PortalColorScheme> = { light: PortalColorScheme.LIGHT, dark: PortalColorScheme.DARK };

function colorSchemeOf(name: string | undefined): PortalColorScheme {
  if (name === undefined) return PortalColorScheme.UNSPECIFIED;
  const scheme = COLOR_SCHEMES[name];
  if (scheme === undefined) throw new InvalidArgumentError(`theme.colorScheme: must be "light" or "dark", not ${JSON.stringify(name)}`);
  return scheme;
}

const SCHEMES: Record<SchemeName, SignatureScheme> = {
  github: SignatureScheme.GITHUB,
  "standard-webhooks": SignatureScheme.STANDARD_WEBHOOKS,
};

function schemeOf(name: SchemeName | undefined): SignatureScheme {
  if (name === undefined) return SignatureScheme.UNSPECIFIED;
  const scheme = SCHEMES[name];
  if (scheme === undefined) throw new InvalidArgumentError(`scheme: must be "github" or "standard-webhooks", not ${JSON.stringify(name)}`);
  return scheme;
}

/** An int64 field from a number, refused by name unless it is a whole number. */
function int64(value: number | undefined, field: string): bigint {
  if (value === undefined) return 0n;
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError(`${field}: must be a whole number, not ${value}`);
  return BigInt(value);
}

const bytes = (body: Body): Uint8Array => (typeof body === "string" ? new TextEncoder().encode(body) : body);

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw HookwireError.from(err);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createWebhookManager(options: WebhookManagerOptions = {}): HookwireManager {
  const transport = options.transport ?? createHookwireTransport(options);
  const client = createClient(WebhookService, transport);
  const rpcRetries = options.rpcRetries ?? 2;

  /** For calls that change nothing when repeated: tries again while Hookwire is unavailable. */
  async function retried<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(fn);
      } catch (err) {
        if (!(err instanceof UnavailableError) || attempt >= rpcRetries) throw err;
        await sleep(250 * 2 ** attempt);
      }
    }
  }

  return {
    client,
    transport,
    sign: (body, secret) => signGithub(body, secret),
    verify: (body, signature, secret) => {
      try {
        return verifyGithub(body, signature, secret);
      } catch {
        return false;
      }
    },
    async send(url, payload, secret) {
      const key = secret ?? options.secret;
      if (!key) throw new InvalidArgumentError("secret: pass one to send() or to createWebhookManager()");
      const res = await call(() =>
        client.send({
          url,
          secret: key,
          payload: { event: payload.event, payload: toValue(payload.payload), timestamp: payload.timestamp ?? "" },
          retries: options.retries,
          retryDelayMs: options.retryDelay,
          timeoutMs: options.timeout,
        }),
      );
      const delivery = deliveryFrom(res.delivery);
      if (delivery.status !== "delivered") {
        const last = delivery.attempts.at(-1);
        const why = last ? (last.statusCode ? `HTTP ${last.statusCode}` : last.error) : "no attempt";
        throw new DeliveryFailedError(`delivery to ${url} failed after ${delivery.attempts.length} attempt(s): ${why}`, delivery);
      }
      return delivery as SentDelivery;
    },
    async register(input) {
      const res = await call(() => client.register(input));
      return { subscription: subscriptionFrom(res.subscription), secret: res.secret };
    },
    getSubscription: async (id) => subscriptionFrom((await retried(() => client.getSubscription({ id }))).subscription),
    async listSubscriptions(input = {}) {
      const res = await retried(() => client.listSubscriptions(input));
      return { subscriptions: res.subscriptions.map(subscriptionFrom), nextPageToken: res.nextPageToken };
    },
    async updateSubscription({ headers, ...input }) {
      // The API cannot tell an empty map from none (proto3): removing every header is its own flag there.
      const clearHeaders = headers !== undefined && Object.keys(headers).length === 0;
      return subscriptionFrom((await call(() => client.updateSubscription({ ...input, headers: headers ?? {}, clearHeaders }))).subscription);
    },
    async deleteSubscription(id) {
      await call(() => client.deleteSubscription({ id }));
    },
    async rotateSecret(id, { secret = "", previousSecretTtlSeconds = 0 } = {}) {
      const res = await call(() => client.rotateSecret({ id, secret, previousSecretTtlSeconds: int64(previousSecretTtlSeconds, "previousSecretTtlSeconds") }));
      return { subscription: subscriptionFrom(res.subscription), secret: res.secret };
    },
    async trigger(event, payload, options = {}) {
      const { owner = "", allOwners = false, idempotencyKey = randomUUID() } = typeof options === "string" ? { idempotencyKey: options } : options;
      const req = { event, payload: toValue(payload), idempotencyKey, owner, allOwners };
      const res = await retried(() => client.trigger(req));
      return { messageId: res.messageId, deliveries: res.deliveries };
    },
    getMessage: async (id) => messageFrom((await retried(() => client.getMessage({ id }))).message),
    async listDeliveries(input) {
      const req = { ...input, status: statusToProto(input.status) };
      const res = await retried(() => client.listDeliveries(req));
      return { deliveries: res.deliveries.map(deliveryFrom), nextPageToken: res.nextPageToken };
    },
    redeliver: async (deliveryId) => deliveryFrom((await call(() => client.redeliver({ deliveryId }))).delivery),
    async recoverDeliveries(input) {
      if (!(input.since instanceof Date) || Number.isNaN(input.since.getTime())) throw new InvalidArgumentError("since: must be a valid Date");
      const req = { subscriptionId: input.subscriptionId, since: timestampFromDate(input.since), limit: input.limit ?? 0, pageToken: input.pageToken ?? "" };
      // Safe to repeat (the server redelivers each failed delivery once), so retried like a read.
      const res = await retried(() => client.recoverDeliveries(req));
      return { deliveries: res.deliveries.map(deliveryFrom), nextPageToken: res.nextPageToken };
    },
    async *watchDeliveries({ subscriptionId = "", owner = "", signal } = {}) {
      try {
        for await (const res of client.watchDeliveries({ subscriptionId, owner }, { signal })) {
          if (res.delivery) yield deliveryFrom(res.delivery);
        }
      } catch (err) {
        if (signal?.aborted) return;
        throw HookwireError.from(err);
      }
    },
    async createEventType({ name, description = "", schema, example }) {
      const req = { name, description, schema: schema === undefined ? undefined : toSchema(schema), example: example === undefined ? undefined : toValue(example) };
      return eventTypeFrom((await call(() => client.createEventType(req))).eventType);
    },
    getEventType: async (name) => eventTypeFrom((await retried(() => client.getEventType({ name }))).eventType),
    async listEventTypes(input = {}) {
      const res = await retried(() => client.listEventTypes(input));
      return { eventTypes: res.eventTypes.map(eventTypeFrom), nextPageToken: res.nextPageToken };
    },
    async updateEventType({ name, description, schema, example }) {
      // The API's own spelling of removal: an empty schema object, a null example (toValue(null)).
      const req = { name, description, schema: schema === undefined ? undefined : schema === null ? {} : toSchema(schema), example: example === undefined ? undefined : toValue(example) };
      return eventTypeFrom((await call(() => client.updateEventType(req))).eventType);
    },
    async deleteEventType(name) {
      await call(() => client.deleteEventType({ name }));
    },
    async createPortalSession({ owner, ttlSeconds, theme }) {
      const req = {
        owner,
        ttlSeconds: int64(ttlSeconds, "ttlSeconds"),
        theme: theme && { accentColor: theme.accentColor ?? "", logoUrl: theme.logoUrl ?? "", colorScheme: colorSchemeOf(theme.colorScheme), title: theme.title ?? "" },
      };
      // Not retried: each call makes a session.
      const res = await call(() => client.createPortalSession(req));
      return portalSessionFrom(res);
    },
    revokePortalSessions: async (owner) => (await retried(() => client.revokePortalSessions({ owner }))).revoked,
    async sendTestEvent({ subscriptionId, event, payload }) {
      const req = { subscriptionId, event, payload: payload === undefined ? undefined : toStruct(payload, "payload") };
      const res = await call(() => client.sendTestEvent(req));
      return { messageId: res.messageId, delivery: deliveryFrom(res.delivery) };
    },
    async signRemote(input) {
      const req = { ...input, body: bytes(input.body), scheme: schemeOf(input.scheme), timestamp: int64(input.timestamp, "timestamp") };
      return (await retried(() => client.sign(req))).signature;
    },
    async verifyRemote(input) {
      const req = {
        ...input,
        body: bytes(input.body),
        scheme: schemeOf(input.scheme),
        timestamp: int64(input.timestamp, "timestamp"),
        toleranceSeconds: int64(input.toleranceSeconds, "toleranceSeconds"),
      };
      const res = await retried(() => client.verify(req));
      return { valid: res.valid, reason: res.reason };
    },
  };
}

