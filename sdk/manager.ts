// createWebhookManager: the seed WebhookManager interface (send, sign, verify) backed by Hookwire,
// plus typed calls for every other RPC.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Value } from "@bufbuild/protobuf/wkt";
import { Code, createClient, type CallOptions, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { DeliveryStatus, type Delivery } from "./gen/hookwire/v1/delivery_pb.js";
import {
  WebhookService,
  type GetMessageResponse,
  type ListDeliveriesRequestSchema,
  type ListDeliveriesResponse,
  type ListSubscriptionsRequestSchema,
  type ListSubscriptionsResponse,
  type RegisterRequestSchema,
  type RegisterResponse,
  type RotateSecretResponse,
  type SignRequestSchema,
  type TriggerResponse,
  type UpdateSubscriptionRequestSchema,
  type VerifyRequestSchema,
  type VerifyResponse,
} from "./gen/hookwire/v1/webhook_service_pb.js";
import type { Subscription } from "./gen/hookwire/v1/subscription_pb.js";
import { HookwireError } from "./errors.js";
import { PayloadError, valueFromJson } from "./payload.js";
import { signGithub, verifyGithub } from "./signature.js";

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

export interface WebhookManagerOptions {
  /** Default secret for send(). */
  secret?: string;
  /** Retries after the first attempt (server default 3). */
  retries?: number;
  /** First retry delay in ms (server default 1000); later ones back off exponentially. */
  retryDelay?: number;
  /** Per-attempt timeout in ms (server default 10 000). */
  timeout?: number;
  /** Hookwire's address; HOOKWIRE_URL, else http://127.0.0.1:8080. */
  baseUrl?: string;
  /** HOOKWIRE_API_KEY, else the development key a local `npm start` keeps in .hookwire/dev-api-key. */
  apiKey?: string;
  /** Wire protocol: gRPC over HTTP/2 (default), Connect or gRPC-Web over HTTP/1.1. */
  protocol?: "grpc" | "connect" | "grpc-web";
}

export interface HookwireManager extends WebhookManager {
  register(req: MessageInitShape<typeof RegisterRequestSchema>): Promise<RegisterResponse>;
  getSubscription(id: string): Promise<Subscription>;
  listSubscriptions(req?: MessageInitShape<typeof ListSubscriptionsRequestSchema>): Promise<ListSubscriptionsResponse>;
  updateSubscription(req: MessageInitShape<typeof UpdateSubscriptionRequestSchema>): Promise<Subscription>;
  deleteSubscription(id: string): Promise<void>;
  /** A new secret (generated unless given); the old one keeps signing beside it for previousSecretTtlSeconds (default a day). */
  rotateSecret(id: string, options?: { secret?: string; previousSecretTtlSeconds?: number }): Promise<RotateSecretResponse>;
  /** Stores the event for every matching subscription; delivery happens after. */
  trigger(event: string, payload?: unknown, idempotencyKey?: string): Promise<TriggerResponse>;
  getMessage(id: string): Promise<NonNullable<GetMessageResponse["message"]>>;
  listDeliveries(req: MessageInitShape<typeof ListDeliveriesRequestSchema>): Promise<ListDeliveriesResponse>;
  redeliver(deliveryId: string): Promise<Delivery>;
  /** Delivery outcomes as they happen, until the signal aborts. */
  watchDeliveries(options?: { subscriptionId?: string; signal?: AbortSignal }): AsyncIterable<Delivery>;
  /** The Sign RPC (the local sign() gives the same for the GitHub style). */
  signRemote(req: MessageInitShape<typeof SignRequestSchema>): Promise<string>;
  verifyRemote(req: MessageInitShape<typeof VerifyRequestSchema>): Promise<VerifyResponse>;
  /** The generated client, for anything else. */
  readonly client: Client<typeof WebhookService>;
}

function defaultApiKey(): string {
  if (process.env.HOOKWIRE_API_KEY) return process.env.HOOKWIRE_API_KEY;
  const dataDir = process.env.HOOKWIRE_DATA_DIR || ".hookwire";
  try {
    return readFileSync(join(dataDir, "dev-api-key"), "utf8").trim();
  } catch {
    return "";
  }
}

function transportFor(baseUrl: string, protocol: WebhookManagerOptions["protocol"]): Transport {
  if (protocol === "connect") return createConnectTransport({ baseUrl, httpVersion: "1.1" });
  if (protocol === "grpc-web") return createGrpcWebTransport({ baseUrl, httpVersion: "1.1" });
  return createGrpcTransport({ baseUrl });
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
    if (err instanceof PayloadError) throw new HookwireError(Code.InvalidArgument, `payload: ${err.message}`);
    throw err;
  }
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw HookwireError.from(err);
  }
}

export function createWebhookManager(options: WebhookManagerOptions = {}): HookwireManager {
  const baseUrl = options.baseUrl ?? process.env.HOOKWIRE_URL ?? "http://127.0.0.1:8080";
  const apiKey = options.apiKey ?? defaultApiKey();
  const client = createClient(WebhookService, transportFor(baseUrl, options.protocol));
  const opts = (extra: CallOptions = {}): CallOptions => ({ ...extra, headers: { authorization: `Bearer ${apiKey}` } });

  return {
    client,
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
      if (!key) throw new HookwireError(Code.InvalidArgument, "secret: pass one to send() or to createWebhookManager()");
      const res = await call(() =>
        client.send(
          {
            url,
            secret: key,
            payload: { event: payload.event, payload: toValue(payload.payload), timestamp: payload.timestamp ?? "" },
            retries: options.retries,
            retryDelayMs: options.retryDelay,
            timeoutMs: options.timeout,
          },
          opts(),
        ),
      );
      const delivery = res.delivery;
      if (delivery?.status !== DeliveryStatus.DELIVERED) {
        const last = delivery?.attempts.at(-1);
        const why = last ? (last.statusCode ? `HTTP ${last.statusCode}` : last.error) : "no attempt";
        throw new HookwireError(
          Code.Unavailable,
          `delivery to ${url} failed after ${delivery?.attempts.length ?? 0} attempt(s): ${why}`,
          delivery,
        );
      }
    },
    register: (req) => call(() => client.register(req, opts())),
    getSubscription: async (id) => (await call(() => client.getSubscription({ id }, opts()))).subscription!,
    listSubscriptions: (req = {}) => call(() => client.listSubscriptions(req, opts())),
    updateSubscription: async (req) => (await call(() => client.updateSubscription(req, opts()))).subscription!,
    deleteSubscription: async (id) => {
      await call(() => client.deleteSubscription({ id }, opts()));
    },
    rotateSecret: (id, { secret = "", previousSecretTtlSeconds = 0 } = {}) =>
      call(() => client.rotateSecret({ id, secret, previousSecretTtlSeconds: BigInt(previousSecretTtlSeconds) }, opts())),
    trigger: (event, payload, idempotencyKey = "") => call(() => client.trigger({ event, payload: toValue(payload), idempotencyKey }, opts())),
    getMessage: async (id) => (await call(() => client.getMessage({ id }, opts()))).message!,
    listDeliveries: (req) => call(() => client.listDeliveries(req, opts())),
    redeliver: async (deliveryId) => (await call(() => client.redeliver({ deliveryId }, opts()))).delivery!,
    async *watchDeliveries({ subscriptionId = "", signal } = {}) {
      try {
        for await (const res of client.watchDeliveries({ subscriptionId }, opts({ signal }))) {
          if (res.delivery) yield res.delivery;
        }
      } catch (err) {
        if (signal?.aborted) return;
        throw HookwireError.from(err);
      }
    },
    signRemote: async (req) => (await call(() => client.sign(req, opts()))).signature,
    verifyRemote: (req) => call(() => client.verify(req, opts())),
  };
}
