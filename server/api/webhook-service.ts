// Thin handlers: read the request, call one domain function, map the result.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { WebhookService } from "@hookwire/sdk/proto";
import type { WatchDeliveriesResponse } from "@hookwire/sdk/proto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DomainError, invalid } from "../domain/errors.js";
import { getMessage, listDeliveries, redeliver, send, sendTestEvent, trigger, type MessageDeps } from "../usecases/messages.js";
import { createPortalSession, getPortalSession, revokePortalSessions, type PortalDeps } from "../usecases/portal.js";
import { recoverDeliveries } from "../usecases/recovery.js";
import { createEventType, deleteEventType, getEventType, listEventTypes, updateEventType, type CatalogDeps } from "../usecases/catalog.js";
import { signBody, verifyBody } from "../usecases/signatures.js";
import type { Delivery, Dispatch } from "../ports.js";
import {
  deleteSubscription,
  watchScope,
  getSubscription,
  listSubscriptions,
  registerSubscription,
  rotateSecret,
  updateSubscription,
  type SubscriptionDeps,
} from "../usecases/subscriptions.js";
import { callerOf, streamReadyKey } from "./context.js";
import { withPortalScope } from "./scope.js";
import type { HookwireMetrics } from "../telemetry/metrics.js";
import {
  dateFromProto,
  deliveryStateFromProto,
  deliveryToProto,
  newestFirstFromProto,
  eventTypeToProto,
  messageToProto,
  payloadFromProto,
  schemaFromProto,
  structFromProto,
  subscriptionToProto,
  themeFromProto,
  themeToProto,
} from "./convert.js";

const tenantOf = (ctx: HandlerContext) => callerOf(ctx).tenant;

/** The origin a request came to (the server speaks cleartext: TLS, if any, ends in front of it). */
function requestOrigin(ctx: HandlerContext): string {
  try {
    return `http://${new URL(ctx.url).host}`;
  } catch {
    throw new DomainError("failed_precondition", "url: the request's Host is not a host name, and HOOKWIRE_PUBLIC_URL is not set to say where the portal is");
  }
}

export interface ServiceDeps {
  subscriptions: SubscriptionDeps;
  messages: MessageDeps;
  catalog: CatalogDeps;
  portal: PortalDeps;
  /** Where portal calls refused by the scope are counted. */
  metrics: Pick<HookwireMetrics, "portalCallRefused">;
  /** Outcomes buffered for one WatchDeliveries watcher before it is ended as too far behind. */
  watchBuffer?: number;
}

/** Outcomes for one watcher, buffered up to a bound so a slow reader cannot grow memory without end. */
async function* watchStream(
  engine: Dispatch,
  tenant: string,
  only: { subscriptionId: string; owner: string },
  signal: AbortSignal,
  maxBuffered: number,
  ready: () => void,
): AsyncGenerator<WatchDeliveriesResponse> {
  const buffer: Delivery[] = [];
  let wake: (() => void) | undefined;
  let overflow = false;
  const unwatch = engine.watch((doc) => {
    if (doc.tenant !== tenant || (only.subscriptionId && doc.subscriptionId !== only.subscriptionId) || (only.owner && doc.owner !== only.owner)) return;
    if (buffer.length >= maxBuffered) overflow = true;
    else buffer.push(doc);
    wake?.();
  });
  ready();
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  try {
    while (!signal.aborted) {
      if (overflow) {
        throw new DomainError("exhausted", `watcher: fell more than ${maxBuffered} outcomes behind and was ended; watch again and catch up with ListDeliveries`);
      }
      const doc = buffer.shift();
      if (doc) {
        yield { $typeName: "hookwire.v1.WatchDeliveriesResponse", delivery: deliveryToProto(doc) };
        continue;
      }
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  } finally {
    unwatch();
    signal.removeEventListener("abort", onAbort);
  }
}

/** The service, each RPC bounded for portal sessions' calls by the scope (scope.ts). */
export function webhookService(deps: ServiceDeps): ServiceImpl<typeof WebhookService> {
  return withPortalScope(handlers(deps), { subscriptions: deps.subscriptions, messages: deps.messages, metrics: deps.metrics });
}

function handlers(deps: ServiceDeps): ServiceImpl<typeof WebhookService> {
  const subs = deps.subscriptions;
  const msgs = deps.messages;
  // Header values are answered by GetSubscription alone; every other answer masks them.
  const toProto = (doc: Parameters<typeof subscriptionToProto>[0]) => subscriptionToProto(doc, msgs.defaults, "masked");
  return {
    async register(req, ctx) {
      const { subscription, secret } = await registerSubscription(subs, tenantOf(ctx), req);
      return { subscription: toProto(subscription), secret };
    },
    async getSubscription(req, ctx) {
      return { subscription: subscriptionToProto(await getSubscription(subs, tenantOf(ctx), req.id), msgs.defaults, "plain") };
    },
    async listSubscriptions(req, ctx) {
      const page = await listSubscriptions(subs, tenantOf(ctx), req.pageSize, req.pageToken, req.owner, newestFirstFromProto(req.order));
      return { subscriptions: page.subscriptions.map(toProto), nextPageToken: page.nextPageToken };
    },
    async updateSubscription(req, ctx) {
      return { subscription: toProto(await updateSubscription(subs, tenantOf(ctx), req.id, req)) };
    },
    async rotateSecret(req, ctx) {
      const { subscription, secret } = await rotateSecret(subs, tenantOf(ctx), req.id, req);
      return { subscription: toProto(subscription), secret };
    },
    async deleteSubscription(req, ctx) {
      await deleteSubscription(subs, tenantOf(ctx), req.id);
      return {};
    },
    sign(req) {
      return { signature: signBody(req) };
    },
    verify(req) {
      const reason = verifyBody(req);
      return { valid: reason === "", reason };
    },
    async trigger(req, ctx) {
      return trigger(msgs, tenantOf(ctx), {
        event: req.event,
        payload: payloadFromProto(req.payload),
        idempotencyKey: req.idempotencyKey,
        owner: req.owner,
        allOwners: req.allOwners,
      });
    },
    async send(req, ctx) {
      if (!req.payload) throw invalid("payload", "is required");
      const res = await send(
        msgs,
        tenantOf(ctx),
        {
          url: req.url,
          event: req.payload.event,
          payload: payloadFromProto(req.payload.payload),
          timestamp: req.payload.timestamp,
          secret: req.secret,
          idempotencyKey: req.idempotencyKey,
          retries: req.retries,
          retryDelayMs: req.retryDelayMs,
          timeoutMs: req.timeoutMs,
        },
        ctx.signal,
      );
      return { messageId: res.messageId, delivery: deliveryToProto(res.delivery) };
    },
    async getMessage(req, ctx) {
      return { message: messageToProto(await getMessage(msgs, tenantOf(ctx), req.id)) };
    },
    async listDeliveries(req, ctx) {
      const page = await listDeliveries(msgs, tenantOf(ctx), { ...req, status: deliveryStateFromProto(req.status), newestFirst: newestFirstFromProto(req.order) });
      return { deliveries: page.deliveries.map(deliveryToProto), nextPageToken: page.nextPageToken };
    },
    async redeliver(req, ctx) {
      return { delivery: deliveryToProto(await redeliver(msgs, tenantOf(ctx), req.deliveryId)) };
    },
    async recoverDeliveries(req, ctx) {
      const page = await recoverDeliveries(msgs, tenantOf(ctx), {
        subscriptionId: req.subscriptionId,
        since: dateFromProto(req.since, "since"),
        limit: req.limit,
        pageToken: req.pageToken,
      });
      return { deliveries: page.deliveries.map(deliveryToProto), nextPageToken: page.nextPageToken };
    },
    async createEventType(req, ctx) {
      const input = { name: req.name, description: req.description, schema: schemaFromProto(req.schema), example: req.example && payloadFromProto(req.example, "example") };
      return { eventType: eventTypeToProto(await createEventType(deps.catalog, tenantOf(ctx), input)) };
    },
    async getEventType(req, ctx) {
      return { eventType: eventTypeToProto(await getEventType(deps.catalog, tenantOf(ctx), req.name)) };
    },
    async listEventTypes(req, ctx) {
      const page = await listEventTypes(deps.catalog, tenantOf(ctx), req.pageSize, req.pageToken);
      return { eventTypes: page.eventTypes.map(eventTypeToProto), nextPageToken: page.nextPageToken };
    },
    async updateEventType(req, ctx) {
      const input = { description: req.description, schema: schemaFromProto(req.schema), example: req.example && payloadFromProto(req.example, "example") };
      return { eventType: eventTypeToProto(await updateEventType(deps.catalog, tenantOf(ctx), req.name, input)) };
    },
    async deleteEventType(req, ctx) {
      await deleteEventType(deps.catalog, tenantOf(ctx), req.name);
      return {};
    },
    async sendTestEvent(req, ctx) {
      const res = await sendTestEvent(msgs, tenantOf(ctx), { subscriptionId: req.subscriptionId, event: req.event, payload: structFromProto(req.payload, "payload") });
      return { messageId: res.messageId, delivery: deliveryToProto(res.delivery) };
    },
    async createPortalSession(req, ctx) {
      const input = { owner: req.owner, ttlSeconds: req.ttlSeconds, theme: themeFromProto(req.theme) };
      const created = await createPortalSession(deps.portal, tenantOf(ctx), input, deps.portal.publicUrl ?? requestOrigin(ctx));
      return { token: created.token, url: created.url, expiresAt: timestampFromDate(created.expiresAt) };
    },
    async revokePortalSessions(req, ctx) {
      return { revoked: await revokePortalSessions(deps.portal, tenantOf(ctx), req.owner) };
    },
    async getPortalSession(_req, ctx) {
      // The scope lets only portal sessions' calls in.
      const session = await getPortalSession(deps.portal, callerOf(ctx).portal!);
      return { owner: session.owner, expiresAt: timestampFromDate(session.expiresAt), theme: session.theme && themeToProto(session.theme) };
    },
    async *watchDeliveries(req, ctx) {
      // The slot is taken before anything else, so a stream over the quota is refused at once, and given
      // back however the stream ends (the client's cancel included).
      const release = msgs.quotas.openWatch(tenantOf(ctx));
      try {
        const only = await watchScope(subs, tenantOf(ctx), req.subscriptionId, req.owner);
        yield* watchStream(msgs.engine, tenantOf(ctx), only, ctx.signal, deps.watchBuffer ?? 10_000, () =>
          ctx.values.get(streamReadyKey)(ctx.responseHeader),
        );
      } finally {
        release();
      }
    },
  };
}
