// The SDK's receiver helpers against a replayed delivery: a real signed delivery, captured from a real
// receiver, is sent again an hour later with its webhook-* headers stripped and a forged id.
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSecret, verifyDelivery, verifyRequest, type ReceiverOptions, type VerifiedDelivery } from "@hookwire/sdk/node";
import { startReceiver, type Received, type Receiver } from "../helpers/receiver.js";
import { bearer, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";

let server: RunningServer;
let rcv: Receiver;
let captured: Received;
let secret: string;
let sentAt: number;

beforeAll(async () => {
  rcv = await startReceiver();
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true" } });
  const client = grpcClient(server);
  secret = generateSecret();
  rcv.route("/capture", { secret });
  await client.register({ url: rcv.url("/capture"), events: ["replay.test"], secret }, { headers: bearer(KEYS.acme) });
  await client.trigger({ event: "replay.test", payload: { kind: { case: "stringValue", value: "pay 100" } } }, { headers: bearer(KEYS.acme) });
  captured = (await rcv.waitFor((all) => all.some((r) => r.path === "/capture"))).find((r) => r.path === "/capture")!;
  expect(captured.verified, captured.verifyError).toBe(true);
  sentAt = Number(captured.headers["webhook-timestamp"]);
});
afterAll(async () => {
  await server?.stop();
  await rcv?.close();
});

/** The captured headers as an attacker would replay them: no webhook-* headers, a fresh id to get past dedupe. */
function replayedHeaders(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(captured.headers)) {
    if (typeof v === "string" && !k.startsWith("webhook-") && !["host", "connection", "content-length", "transfer-encoding"].includes(k)) out[k] = v;
  }
  out["webhook-id"] = "msg_forged0000000000000000000000";
  return out;
}

/** Replays the request over HTTP to a Node server that checks its IncomingMessage with verifyRequest. */
async function throughNodeServer(headers: Record<string, string>, options: ReceiverOptions): Promise<VerifiedDelivery> {
  let result: VerifiedDelivery | undefined;
  const own = createServer(async (req: IncomingMessage, res) => {
    result = await verifyRequest(req, options);
    res.writeHead(result.valid ? 204 : 400).end();
  });
  await new Promise<void>((r) => own.listen(0, "127.0.0.1", r));
  try {
    await fetch(`http://127.0.0.1:${(own.address() as AddressInfo).port}/in`, { method: "POST", headers, body: captured.body });
  } finally {
    own.close();
  }
  return result!;
}

const throughFetch = (headers: Record<string, string>, options: ReceiverOptions) =>
  verifyRequest(new Request("http://127.0.0.1/in", { method: "POST", headers, body: captured.body }), options);

describe("receiver helpers refuse a replayed delivery", () => {
  it("the captured delivery itself verifies with the Standard Webhooks signature", async () => {
    const options = { secret, now: sentAt };
    expect(await verifyDelivery(captured.headers, captured.body, options)).toMatchObject({ valid: true, scheme: "standard-webhooks" });
    expect(await throughNodeServer(captured.headers as Record<string, string>, options)).toMatchObject({ valid: true, scheme: "standard-webhooks" });
  });

  it("an hour later, with the webhook-* headers stripped and a forged id, every helper refuses it", async () => {
    const options = { secret, now: sentAt + 3600 };
    const headers = replayedHeaders();
    expect(headers["x-hub-signature-256"]).toMatch(/^sha256=/);
    const refused = { valid: false, reason: "webhook-signature header is missing" };
    expect(await verifyDelivery(headers, captured.body, options)).toMatchObject(refused);
    expect(await throughNodeServer(headers, options)).toMatchObject(refused);
    expect(await throughFetch(headers, options)).toMatchObject(refused);
  });

  it("with the webhook-* headers kept, the replay is too old", async () => {
    const options = { secret, now: sentAt + 3600 };
    const headers = { ...(captured.headers as Record<string, string>) };
    delete headers["content-length"];
    expect(await throughFetch(headers, options)).toMatchObject({ valid: false, reason: "timestamp is too old" });
  });

  it("checks the GitHub-style signature only when asked to", async () => {
    const headers = replayedHeaders();
    const github: ReceiverOptions = { secret, scheme: "github" };
    expect(await verifyDelivery(headers, captured.body, github)).toMatchObject({ valid: true, scheme: "github" });
    expect(await throughFetch(headers, github)).toMatchObject({ valid: true, scheme: "github" });
    // Asked for Standard Webhooks, a delivery with only x-hub-signature-256 is refused.
    expect(await verifyDelivery(headers, captured.body, { secret, scheme: "standard-webhooks" })).toMatchObject({ valid: false });
  });

  it("a plain (non-whsec) secret checks x-hub-signature-256 by default", async () => {
    const body = '{"a":1}';
    const sig = "sha256=" + createHmac("sha256", "plain").update(body).digest("hex");
    expect(await verifyDelivery({ "x-hub-signature-256": sig }, body, { secret: "plain" })).toMatchObject({ valid: true, scheme: "github" });
    expect(await verifyDelivery({}, body, { secret: "plain" })).toMatchObject({ valid: false, reason: "x-hub-signature-256 header is missing" });
  });
});

describe("header names in plain objects", () => {
  it("are matched whatever their case", async () => {
    const mixed: Record<string, string> = {};
    for (const [k, v] of Object.entries(captured.headers)) {
      if (typeof v === "string") mixed[k.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase())] = v;
    }
    expect(mixed["Webhook-Signature"]).toBeDefined();
    expect(await verifyDelivery(mixed, captured.body, { secret, now: sentAt })).toMatchObject({
      valid: true,
      scheme: "standard-webhooks",
      webhookId: captured.headers["webhook-id"],
      event: "replay.test",
    });
  });
});
