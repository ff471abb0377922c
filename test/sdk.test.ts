// The TypeScript SDK against a live server: the seed interface, typed calls, errors, receiver helpers, the built package.
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Code,
  createWebhookManager,
  DeliveryStatus,
  generateSecret,
  HookwireError,
  SignatureScheme,
  verifyDelivery,
  verifyFetchRequest,
  verifyNodeRequest,
  type HookwireManager,
  type VerifiedDelivery,
} from "../sdk/index.js";
import { startReceiver, type Receiver } from "./helpers/receiver.js";
import { KEYS, startServer, type RunningServer } from "./helpers/server.js";
import { vectors } from "./vectors/index.js";

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
let server: RunningServer;
let rcv: Receiver;
let hw: HookwireManager;

beforeAll(async () => {
  rcv = await startReceiver();
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true" } });
  hw = createWebhookManager({ baseUrl: server.baseUrl, apiKey: KEYS.acme, retries: 2, retryDelay: 50, timeout: 2000 });
});
afterAll(async () => {
  await server.stop();
  await rcv.close();
});

describe("the seed interface", () => {
  it("send resolves once delivered, signed with the given or default secret", async () => {
    const secret = generateSecret();
    rcv.route("/seed", { secret });
    const mgr = createWebhookManager({ secret, retries: 3, retryDelay: 1000, timeout: 10_000, baseUrl: server.baseUrl, apiKey: KEYS.acme });
    const timestamp = new Date().toISOString();
    await expect(mgr.send(rcv.url("/seed"), { event: "seed.sent", payload: { n: 1, at: new Date(0) }, timestamp })).resolves.toBeUndefined();
    const [got] = rcv.requests("/seed");
    expect(got!.verified, got!.verifyError).toBe(true);
    expect(JSON.parse(got!.body)).toEqual({ event: "seed.sent", payload: { n: 1, at: "1970-01-01T00:00:00.000Z" }, timestamp });
    const other = generateSecret();
    rcv.route("/seed2", { secret: other });
    await mgr.send(rcv.url("/seed2"), { event: "seed.sent", payload: null, timestamp }, other);
    expect(rcv.requests("/seed2")[0]!.verified).toBe(true);
  });

  it("send rejects with a HookwireError carrying every attempt when delivery fails", async () => {
    rcv.route("/down", { respond: () => ({ status: 503, body: "maintenance" }) });
    const err = await hw.send(rcv.url("/down"), { event: "x.y", payload: 1, timestamp: new Date().toISOString() }, "s3cret").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HookwireError);
    const he = err as HookwireError;
    expect(he.code).toBe(Code.Unavailable);
    expect(he.attempts.map((a) => a.statusCode)).toEqual([503, 503, 503]);
    expect(he.attempts[0]!.responseExcerpt).toBe("maintenance");
    expect(he.message).toMatch(/failed after 3 attempt\(s\): HTTP 503/);
  });

  it("sign and verify are local, synchronous and equal to the Sign and Verify RPCs", async () => {
    for (const v of vectors.github) {
      expect(hw.sign(v.body, v.secret)).toBe(v.signature);
      expect(await hw.signRemote({ body: new TextEncoder().encode(v.body), secret: v.secret })).toBe(v.signature);
      expect(hw.verify(v.body, v.signature, v.secret)).toBe(true);
    }
    for (let i = 0; i < 20; i++) {
      const body = JSON.stringify({ i, s: "ü".repeat(i) });
      const secret = `secret-${i}`;
      const local = hw.sign(body, secret);
      expect(local).toBe(await hw.signRemote({ body: new TextEncoder().encode(body), secret }));
      const tampered = local.slice(0, -1) + (local.endsWith("0") ? "1" : "0");
      for (const sig of [local, tampered, "garbage"]) {
        const remote = await hw.verifyRemote({ body: new TextEncoder().encode(body), secret, signature: sig });
        expect(hw.verify(body, sig, secret)).toBe(remote.valid);
      }
    }
  });

  it("errors are HookwireErrors with the gRPC code and a message naming the field", async () => {
    const err = (await hw.register({ url: "ftp://nope", events: ["a"] }).catch((e: unknown) => e)) as HookwireError;
    expect(err).toBeInstanceOf(HookwireError);
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.codeName).toBe("INVALID_ARGUMENT");
    expect(err.message).toMatch(/^url: /);
    const anon = createWebhookManager({ baseUrl: server.baseUrl, apiKey: "wrong" });
    expect(((await anon.listSubscriptions().catch((e: unknown) => e)) as HookwireError).codeName).toBe("UNAUTHENTICATED");
    await expect(hw.send("http://x", { event: "a.b", payload: 1, timestamp: "" })).rejects.toMatchObject({ code: Code.InvalidArgument });
  });
});

describe("typed calls", () => {
  it("covers subscriptions, trigger, the log and watching", async () => {
    const reg = await hw.register({ url: rcv.url("/typed"), events: ["typed.*"], description: "sdk" });
    const id = reg.subscription!.id;
    rcv.route("/typed", { secret: reg.secret, respond: (n) => ({ status: n === 1 ? 500 : 200 }) });
    expect((await hw.getSubscription(id)).description).toBe("sdk");
    expect((await hw.updateSubscription({ id, retryDelayMs: 50 })).retryDelayMs).toBe(50);
    expect((await hw.listSubscriptions({ pageSize: 100 })).subscriptions.map((s) => s.id)).toContain(id);

    const ac = new AbortController();
    const outcomes: DeliveryStatus[] = [];
    const watching = (async () => {
      for await (const d of hw.watchDeliveries({ subscriptionId: id, signal: ac.signal })) {
        outcomes.push(d.status);
        if (d.status === DeliveryStatus.DELIVERED) return;
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const t = await hw.trigger("typed.created", { ok: true });
    expect(t.deliveries).toBe(1);
    await watching;
    ac.abort();
    expect(outcomes).toEqual([DeliveryStatus.PENDING, DeliveryStatus.DELIVERED]);
    const msg = await hw.getMessage(t.messageId);
    expect(msg.event).toBe("typed.created");
    const { deliveries } = await hw.listDeliveries({ messageId: t.messageId });
    expect(deliveries[0]!.attempts.map((a) => a.statusCode)).toEqual([500, 200]);
    const again = await hw.redeliver(deliveries[0]!.id);
    expect(again.redeliveryOf).toBe(deliveries[0]!.id);
    await hw.deleteSubscription(id);
    await expect(hw.getSubscription(id)).rejects.toMatchObject({ code: Code.NotFound });
  });

  it.each(["connect", "grpc-web"] as const)("works over %s on HTTP/1.1", async (protocol) => {
    const mgr = createWebhookManager({ baseUrl: server.baseUrl, apiKey: KEYS.acme, protocol });
    const v = vectors.standard_webhooks[0]!;
    const sig = await mgr.signRemote({
      body: new TextEncoder().encode(v.body),
      secret: v.secret,
      scheme: SignatureScheme.STANDARD_WEBHOOKS,
      webhookId: v.webhook_id,
      timestamp: BigInt(v.timestamp),
    });
    expect(sig).toBe(v.signature);
  });
});

describe("receiver helpers", () => {
  it("verify real deliveries from Node requests and Fetch requests", async () => {
    const results: Array<{ node: VerifiedDelivery; fetch: VerifiedDelivery; tampered: VerifiedDelivery; stale: VerifiedDelivery }> = [];
    let secret = "";
    const own = createServer(async (req: IncomingMessage, res) => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const node = await verifyNodeRequest(req, { secret });
      const fetchReq = new Request("http://receiver/", { method: "POST", headers, body: node.body });
      results.push({
        node,
        fetch: await verifyFetchRequest(fetchReq, { secret }),
        tampered: verifyDelivery(req.headers, node.body + " ", { secret }),
        stale: verifyDelivery(req.headers, node.body, { secret, now: Math.floor(Date.now() / 1000) + 3600 }),
      });
      res.writeHead(node.valid ? 204 : 400).end();
    });
    await new Promise<void>((r) => own.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(own.address() as AddressInfo).port}/in`;
      const reg = await hw.register({ url, events: ["helper.test"] });
      secret = reg.secret;
      const t = await hw.trigger("helper.test", { a: 1 });
      for (let i = 0; i < 100 && results.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      const [r] = results;
      expect(r!.node).toMatchObject({ valid: true, scheme: "standard-webhooks", webhookId: t.messageId, event: "helper.test" });
      expect(r!.fetch).toMatchObject({ valid: true, scheme: "standard-webhooks" });
      expect(r!.tampered).toMatchObject({ valid: false, reason: "signature does not match" });
      expect(r!.stale).toMatchObject({ valid: false, reason: "timestamp is too old" });
      // With a plain (non-whsec) secret only the GitHub-style header can be checked.
      const gh = verifyDelivery({ "x-hub-signature-256": hw.sign("{}", "plain") }, "{}", { secret: "plain" });
      expect(gh).toMatchObject({ valid: true, scheme: "github" });
      expect(verifyDelivery({}, "{}", { secret: "plain" })).toMatchObject({ valid: false });
    } finally {
      own.close();
    }
  });
});

describe("the built package", () => {
  it("lets a plain JavaScript app written against the seed interface run unchanged", async () => {
    const build = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8" });
    expect(build.status, build.stderr + build.stdout).toBe(0);
    rcv.route("/plain-js", { respond: () => ({ status: 200 }) });
    // Asynchronous: the receiver lives in this process and must keep answering while the app runs.
    const { stdout } = await execFileAsync(process.execPath, ["examples/node/seed-app.mjs"], {
      cwd: ROOT,
      env: { ...process.env, HOOKWIRE_URL: server.baseUrl, HOOKWIRE_API_KEY: KEYS.acme, TARGET_URL: rcv.url("/plain-js") },
      timeout: 60_000,
    });
    expect(JSON.parse(stdout.trim())).toMatchObject({ sent: true });
    expect(rcv.requests("/plain-js")).toHaveLength(1);
  });
});
