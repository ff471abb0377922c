// Thin handlers: read the request, call one domain function, map the result.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { WebhookService } from "../../sdk/gen/hookwire/v1/webhook_service_pb.js";
import { signBody, verifyBody } from "../signatures.js";
import {
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  registerSubscription,
  updateSubscription,
  type SubscriptionDeps,
} from "../subscriptions.js";
import { tenantKey } from "./context.js";
import { subscriptionToProto } from "./convert.js";

const tenantOf = (ctx: HandlerContext) => ctx.values.get(tenantKey);

export function webhookService(deps: SubscriptionDeps): ServiceImpl<typeof WebhookService> {
  return {
    async register(req, ctx) {
      const { subscription, secret } = await registerSubscription(deps, tenantOf(ctx), req);
      return { subscription: subscriptionToProto(subscription), secret };
    },
    async getSubscription(req, ctx) {
      return { subscription: subscriptionToProto(await getSubscription(deps, tenantOf(ctx), req.id)) };
    },
    async listSubscriptions(req, ctx) {
      const page = await listSubscriptions(deps, tenantOf(ctx), req.pageSize, req.pageToken);
      return { subscriptions: page.subscriptions.map(subscriptionToProto), nextPageToken: page.nextPageToken };
    },
    async updateSubscription(req, ctx) {
      return { subscription: subscriptionToProto(await updateSubscription(deps, tenantOf(ctx), req.id, req)) };
    },
    async deleteSubscription(req, ctx) {
      await deleteSubscription(deps, tenantOf(ctx), req.id);
      return {};
    },
    sign(req) {
      return { signature: signBody(req) };
    },
    verify(req) {
      const reason = verifyBody(req);
      return { valid: reason === "", reason };
    },
  };
}
