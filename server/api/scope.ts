// What a customer portal session may do: the one place its calls are bounded (issue 24). Every RPC of the
// service has a rule here (the type makes a new RPC without one fail to compile), applied before its handler
// runs, for every protocol (the plain unary paths and Connect's call the same wrapped implementation):
// - refused: PERMISSION_DENIED (Trigger, Send, Sign, Verify, the catalog's writes, portal sessions);
// - unscoped: the tenant's catalog, read as it is;
// - a check: the ids in the request must be the session's owner's (another owner's, or the tenant's own,
//   answer NOT_FOUND exactly as another tenant's do), and an owner in the request is forced to the
//   session's (empty: filled in; another: PERMISSION_DENIED).
// Tenant API keys pass unchanged, except to GetPortalSession, which answers portal sessions only.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { WebhookService } from "@hookwire/sdk/proto";
import { notFound, permissionDenied, type DomainError } from "../domain/errors.js";
import type { PortalSession } from "../ports.js";
import type { HookwireMetrics } from "../telemetry/metrics.js";
import { findDelivery, getMessage, messageReached, type MessageDeps } from "../usecases/messages.js";
import { findSubscription, type SubscriptionDeps } from "../usecases/subscriptions.js";
import { callerOf } from "./context.js";

type Impl = ServiceImpl<typeof WebhookService>;
type Method = keyof Impl;
type RequestOf<M extends Method> = Parameters<Impl[M]>[0];

/**
 * A portal session's access to one RPC: "refused"; "unscoped" (allowed as asked); "portal-only" (allowed
 * to a portal session, refused to an API key); or a check that answers the request to run (its owner
 * filled in) or throws.
 */
type Rule<M extends Method> = "refused" | "unscoped" | "portal-only" | ((req: RequestOf<M>, session: PortalSession) => RequestOf<M> | Promise<RequestOf<M>>);
type Rules = { [M in Method]: Rule<M> };

export interface ScopeDeps {
  subscriptions: SubscriptionDeps;
  messages: MessageDeps;
  metrics: Pick<HookwireMetrics, "portalCallRefused">;
}

function portalRules(deps: ScopeDeps): Rules {
  const { metrics } = deps;
  /** An id that exists but is not the session owner's: answered as one that does not exist. */
  const foreign = (field: string, what: string, id: string): DomainError => {
    metrics.portalCallRefused("id");
    return notFound(field, what, id);
  };
  const subscription = async (s: PortalSession, id: string, field: string): Promise<void> => {
    const sub = await findSubscription(deps.subscriptions, s.tenant, id, field);
    if (sub.owner !== s.owner) throw foreign(field, "subscription", id);
  };
  const message = async (s: PortalSession, id: string): Promise<void> => {
    const m = await getMessage(deps.messages, s.tenant, id);
    if (!(await messageReached(deps.messages, m, s.owner))) throw foreign("id", "message", id);
  };
  const delivery = async (s: PortalSession, id: string): Promise<void> => {
    const d = await findDelivery(deps.messages, s.tenant, id);
    if ((d.owner ?? "") !== s.owner) throw foreign("delivery_id", "delivery", id);
  };
  /** The owner a request acts for: the session's, whether named or left empty. */
  const owner = (asked: string, s: PortalSession): string => {
    if (asked === "" || asked === s.owner) return s.owner;
    metrics.portalCallRefused("owner");
    throw permissionDenied("owner: a portal session acts for its own owner only; leave owner empty");
  };
  return {
    register: (req, s) => ({ ...req, owner: owner(req.owner, s) }),
    getSubscription: async (req, s) => (await subscription(s, req.id, "id"), req),
    listSubscriptions: (req, s) => ({ ...req, owner: owner(req.owner, s) }),
    updateSubscription: async (req, s) => (await subscription(s, req.id, "id"), req),
    deleteSubscription: async (req, s) => (await subscription(s, req.id, "id"), req),
    rotateSecret: async (req, s) => (await subscription(s, req.id, "id"), req),
    sign: "refused",
    verify: "refused",
    trigger: "refused",
    send: "refused",
    getMessage: async (req, s) => (await message(s, req.id), req),
    // A message or subscription id of another owner lists nothing, as another tenant's does.
    listDeliveries: (req, s) => ({ ...req, owner: owner(req.owner, s) }),
    redeliver: async (req, s) => (await delivery(s, req.deliveryId), req),
    recoverDeliveries: async (req, s) => (await subscription(s, req.subscriptionId, "subscription_id"), req),
    watchDeliveries: async (req, s) => {
      if (req.subscriptionId) await subscription(s, req.subscriptionId, "subscription_id");
      return { ...req, owner: owner(req.owner, s) };
    },
    createEventType: "refused",
    getEventType: "unscoped",
    listEventTypes: "unscoped",
    updateEventType: "refused",
    deleteEventType: "refused",
    sendTestEvent: async (req, s) => (await subscription(s, req.subscriptionId, "subscription_id"), req),
    createPortalSession: "refused",
    revokePortalSessions: "refused",
    getPortalSession: "portal-only",
  };
}

type AnyCall = (req: unknown, ctx: HandlerContext) => unknown;
type AnyRule = "refused" | "unscoped" | "portal-only" | ((req: unknown, session: PortalSession) => unknown);

/** The service with each RPC's rule applied before its handler. */
export function withPortalScope(impl: Impl, deps: ScopeDeps): Impl {
  const { metrics } = deps;
  const rules = portalRules(deps) as unknown as Record<string, AnyRule>;
  const scoped: Record<string, AnyCall> = {};
  for (const method of WebhookService.methods) {
    const name = method.localName;
    const handler = (impl as unknown as Record<string, AnyCall>)[name]!.bind(impl);
    const rule = rules[name]!;
    const refusal = (): DomainError => {
      if (rule === "portal-only") return permissionDenied(`${method.name}: answers a portal session's token only; an API key has no session`);
      metrics.portalCallRefused("method");
      return permissionDenied(`${method.name}: not open to a portal session; the tenant's API key calls it`);
    };
    /** The request to run for this caller, or a refusal; undefined for an API key's call of a tenant RPC. */
    const admitted = (req: unknown, ctx: HandlerContext): { refused: unknown } | { checked: Promise<unknown> } | undefined => {
      const session = callerOf(ctx).portal;
      if (!session) return rule === "portal-only" ? { refused: refusal() } : undefined;
      if (rule === "refused") return { refused: refusal() };
      if (rule === "unscoped" || rule === "portal-only") return undefined;
      return { checked: Promise.resolve().then(() => rule(req, session)) };
    };
    if (method.methodKind === "server_streaming") {
      scoped[name] = (req, ctx) => {
        let admit;
        try {
          admit = admitted(req, ctx);
        } catch (err) {
          admit = { refused: err };
        }
        if (!admit) return handler(req, ctx);
        return (async function* () {
          if ("refused" in admit) throw admit.refused;
          yield* handler(await admit.checked, ctx) as AsyncIterable<unknown>;
        })();
      };
    } else {
      // An API key's call goes straight to its handler: no await added to the hot path.
      scoped[name] = (req, ctx) => {
        let admit;
        try {
          admit = admitted(req, ctx);
        } catch (err) {
          return Promise.reject(err);
        }
        if (!admit) return handler(req, ctx);
        if ("refused" in admit) return Promise.reject(admit.refused);
        return admit.checked.then((checked) => handler(checked, ctx));
      };
    }
  }
  return scoped as unknown as Impl;
}
