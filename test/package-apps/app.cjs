// A CommonJS app outside the repo, loading the installed @hookwire/sdk with require(). Prints one JSON line.
const { createWebhookManager, DeliveryFailedError, UnavailableError } = require("@hookwire/sdk");
const { verifyDelivery } = require("@hookwire/sdk/web");

async function main() {
  const webhooks = createWebhookManager({ secret: "cjs-secret", retries: 3, retryDelay: 1000, timeout: 10_000 });
  const body = JSON.stringify({ from: "cjs" });
  const signature = webhooks.sign(body, "cjs-secret");
  if (!webhooks.verify(body, signature, "cjs-secret")) throw new Error("verify(sign(x)) is false");
  const delivered = await webhooks.send(process.env.TARGET_URL, { event: "app.cjs", payload: { from: "cjs" }, timestamp: new Date().toISOString() });
  const web = await verifyDelivery({ "x-hub-signature-256": signature }, body, { secret: "cjs-secret" });
  let unreachable = "";
  try {
    await createWebhookManager({ baseUrl: "http://127.0.0.1:9", rpcRetries: 0 }).trigger("a.b", {});
  } catch (err) {
    unreachable = err instanceof UnavailableError && !(err instanceof DeliveryFailedError) ? "unavailable" : String(err);
  }
  console.log(JSON.stringify({ language: "commonjs", status: delivered.status, web: web.valid, unreachable }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
