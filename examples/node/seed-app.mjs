// A plain JavaScript (ESM) app written against the seed WebhookManager interface, importing the SDK
// package. HOOKWIRE_URL and HOOKWIRE_API_KEY say where Hookwire is; TARGET_URL is the receiver.
import { createWebhookManager } from "@hookwire/sdk";

const webhooks = createWebhookManager({ secret: process.env.WEBHOOK_SECRET ?? "seed-secret", retries: 3, retryDelay: 1000, timeout: 10_000 });

const body = JSON.stringify({ hello: "world" });
const signature = webhooks.sign(body, "seed-secret");
if (!webhooks.verify(body, signature, "seed-secret")) throw new Error("verify(sign(x)) is false");
if (webhooks.verify(body + " ", signature, "seed-secret")) throw new Error("verify accepted a changed body");

await webhooks.send(process.env.TARGET_URL ?? "http://127.0.0.1:9/", {
  event: "seed.sent",
  payload: { hello: "world" },
  timestamp: new Date().toISOString(),
});
console.log(JSON.stringify({ language: "esm", sent: true, signature }));
