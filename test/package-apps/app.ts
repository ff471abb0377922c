// A TypeScript app outside the repo, type-checked against the installed @hookwire/sdk tarball: the seed
// interface, the typed calls and their plain results, the errors. Prints one JSON line.
import {
  createWebhookManager,
  DeliveryFailedError,
  InvalidArgumentError,
  NotFoundError,
  UnauthenticatedError,
  type Delivery,
  type HookwireManager,
  type Message,
  type WebhookManager,
} from "@hookwire/sdk";
import { generateSecret, signStandard, verifyRequest } from "@hookwire/sdk/node";
import { verifyDelivery } from "@hookwire/sdk/web";
import { WebhookService } from "@hookwire/sdk/proto";

const baseUrl = process.env.HOOKWIRE_URL!;
const apiKey = process.env.HOOKWIRE_API_KEY!;
const target = process.env.TARGET_URL!;

const seed: WebhookManager = createWebhookManager({ secret: "app-secret", retries: 3, retryDelay: 1000, timeout: 10_000, baseUrl, apiKey });
await seed.send(target, { event: "app.ts", payload: { typed: true }, timestamp: new Date().toISOString() });

const hw: HookwireManager = createWebhookManager({ baseUrl, apiKey, retries: 0, retryDelay: 10, timeout: 2000 });
const delivered: Delivery = await hw.send(target, { event: "app.ts", payload: [1, 2], timestamp: "" }, "app-secret");
const attempts: number = delivered.attempts.length;

const { subscription, secret } = await hw.register({ url: target, events: ["app.*"] });
const created: Date = subscription.createdAt;
const triggered = await hw.trigger("app.triggered", { n: 1 });
const message: Message = await hw.getMessage(triggered.messageId);

const errors: string[] = [];
for (const attempt of [
  () => hw.register({ url: "ftp://x" }),
  () => hw.getSubscription("sub_00000000000000000000000000"),
  () => createWebhookManager({ baseUrl, apiKey: "wrong" }).listSubscriptions(),
  () => hw.send(process.env.REFUSING_URL!, { event: "app.refused", payload: null, timestamp: "" }, "s"),
]) {
  try {
    await attempt();
  } catch (err) {
    if (err instanceof InvalidArgumentError) errors.push(`invalid:${err.field}`);
    else if (err instanceof NotFoundError) errors.push("not-found");
    else if (err instanceof UnauthenticatedError) errors.push("unauthenticated");
    else if (err instanceof DeliveryFailedError) errors.push(`delivery-failed:${err.attempts.map((a) => a.statusCode).join(",")}`);
    else throw err;
  }
}

const listed = await hw.client.listSubscriptions({ pageSize: 100 });
const typeName: string = WebhookService.typeName;
const body = "{}";
const verified = await verifyDelivery({ "X-Hub-Signature-256": hw.sign(body, "plain") }, body, { secret: "plain" });
// The Node twin, on a Fetch Request signed the Standard Webhooks way.
const receiverSecret = generateSecret();
const now = Math.floor(Date.now() / 1000);
const headers = { "webhook-id": "msg_app", "webhook-timestamp": String(now), "webhook-signature": await signStandard("msg_app", now, body, receiverSecret) };
const nodeVerified = await verifyRequest(new Request("http://127.0.0.1/", { method: "POST", headers, body }), { secret: receiverSecret });
await hw.deleteSubscription(subscription.id);

console.log(
  JSON.stringify({
    language: "typescript",
    attempts,
    status: delivered.status,
    secret: secret.startsWith("whsec_"),
    created: created instanceof Date,
    payload: message.payload,
    message,
    errors,
    clientListed: listed.subscriptions.some((s) => s.id === subscription.id),
    typeName,
    verified: verified.valid,
    nodeVerified: nodeVerified.valid && nodeVerified.scheme,
  }),
);
