// Sign and Verify RPCs: the same answers as the shared module and the vectors, over gRPC and Connect.
import { Code, ConnectError } from "@connectrpc/connect";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignatureScheme } from "@hookwire/sdk/proto";
import { generateSecret } from "@hookwire/sdk/node";
import { bearer, connectClient, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { vectors } from "../vectors/index.js";

let server: RunningServer;
const opts = { headers: bearer(KEYS.acme) };
const enc = (s: string) => new TextEncoder().encode(s);

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});

describe.each([
  ["gRPC", () => grpcClient(server)],
  ["Connect over HTTP/1.1", () => connectClient(server)],
])("over %s", (_name, makeClient) => {
  it("signs GitHub's example as documented and verifies it", async () => {
    const client = makeClient();
    const body = enc("Hello, World!");
    const secret = "It's a Secret to Everybody";
    const { signature } = await client.sign({ body, secret }, opts);
    expect(signature).toBe("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
    expect(await client.verify({ body, secret, signature }, opts)).toMatchObject({ valid: true, reason: "" });
    const changedBody = await client.verify({ body: enc("Hello, World?"), secret, signature }, opts);
    expect(changedBody.valid).toBe(false);
    expect(changedBody.reason).toBe("signature does not match");
    expect((await client.verify({ body, secret: secret + "!", signature }, opts)).valid).toBe(false);
  });

  it("gives every vector's signature", async () => {
    const client = makeClient();
    for (const v of vectors.github) {
      for (const scheme of [SignatureScheme.UNSPECIFIED, SignatureScheme.GITHUB]) {
        expect((await client.sign({ body: enc(v.body), secret: v.secret, scheme }, opts)).signature).toBe(v.signature);
      }
    }
    for (const v of vectors.standard_webhooks) {
      const req = { body: enc(v.body), secret: v.secret, scheme: SignatureScheme.STANDARD_WEBHOOKS, webhookId: v.webhook_id, timestamp: BigInt(v.timestamp) };
      expect((await client.sign(req, opts)).signature).toBe(v.signature);
      // The vectors are old, so they verify only with a tolerance reaching back to them.
      const stale = await client.verify({ ...req, signature: v.signature }, opts);
      expect(stale).toMatchObject({ valid: false, reason: "timestamp is too old" });
      const tolerance = BigInt(Math.floor(Date.now() / 1000) - v.timestamp + 60);
      expect((await client.verify({ ...req, signature: v.signature, toleranceSeconds: tolerance }, opts)).valid).toBe(true);
    }
  });
});

describe("Standard Webhooks through the RPCs", () => {
  it("signs what the standardwebhooks library verifies, and verifies what it signs", async () => {
    const client = grpcClient(server);
    const secret = generateSecret();
    const lib = new Webhook(secret);
    const now = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ event: "a.b", payload: { x: 1 }, timestamp: new Date().toISOString() });
    const base = { body: enc(body), secret, scheme: SignatureScheme.STANDARD_WEBHOOKS, webhookId: "msg_x1", timestamp: BigInt(now) };
    const { signature } = await client.sign(base, opts);
    expect(lib.verify(body, { "webhook-id": "msg_x1", "webhook-timestamp": String(now), "webhook-signature": signature })).toEqual(JSON.parse(body));
    const theirs = lib.sign("msg_x1", new Date(now * 1000), body);
    expect((await client.verify({ ...base, signature: `v1,bm9wZQ== ${theirs}` }, opts)).valid).toBe(true);
    expect((await client.verify({ ...base, webhookId: "msg_x2", signature: theirs }, opts)).valid).toBe(false);
  });
});

describe("bad input", () => {
  it.each([
    [{ body: enc("x"), secret: "" }, "sign", /^secret: is required/],
    [{ body: enc("x"), secret: "s", scheme: 99 as SignatureScheme }, "sign", /^scheme: 99 is not a known/],
    [{ body: enc("x"), secret: generateSecret(), scheme: SignatureScheme.STANDARD_WEBHOOKS, timestamp: 5n }, "sign", /^webhook_id: is required/],
    [{ body: enc("x"), secret: generateSecret(), scheme: SignatureScheme.STANDARD_WEBHOOKS, webhookId: "m" }, "sign", /^timestamp: is required/],
    [{ body: enc("x"), secret: "plain", scheme: SignatureScheme.STANDARD_WEBHOOKS, webhookId: "m", timestamp: 5n }, "sign", /^secret: for the Standard Webhooks scheme/],
    [{ body: enc("x"), secret: "s", signature: "" }, "verify", /^signature: is required/],
    [
      { body: enc("x"), secret: generateSecret(), signature: "v1,x", scheme: SignatureScheme.STANDARD_WEBHOOKS, webhookId: "m", timestamp: 5n, toleranceSeconds: -1n },
      "verify",
      /^tolerance_seconds: must not be negative/,
    ],
  ] as const)("refuses %# with INVALID_ARGUMENT naming the field", async (req, rpc, msg) => {
    const client = grpcClient(server);
    const call = rpc === "sign" ? client.sign(req, opts) : client.verify(req as Parameters<typeof client.verify>[0], opts);
    const err = await call.then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(msg);
  });

  it("answers a malformed GitHub signature as invalid with a reason, not an error", async () => {
    const res = await grpcClient(server).verify({ body: enc("x"), secret: "s", signature: "md5=abc" }, opts);
    expect(res).toMatchObject({ valid: false, reason: 'signature does not start with "sha256="' });
  });
});
