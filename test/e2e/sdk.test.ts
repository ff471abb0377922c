// The TypeScript SDK against a live server: the seed interface, typed calls and plain results, errors,
// SDK retries, receiver helpers.
import { request as httpRequest, createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Code,
  createWebhookManager,
  DeliveryFailedError,
  HookwireError,
  InvalidArgumentError,
  NotFoundError,
  UnauthenticatedError,
  UnavailableError,
  type DeliveryStatus,
  type HookwireManager,
  type WebhookManager,
} from "@hookwire/sdk";
import { generateSecret, verifyDelivery, verifyRequest, type VerifiedDelivery } from "@hookwire/sdk/node";
import * as web from "@hookwire/sdk/web";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { vectors } from "../vectors/index.js";

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

/** What JSON.stringify then JSON.parse gives: throws where a bigint or a cycle is left. */
const roundTrip = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe("the seed interface", () => {
  it("send resolves to the delivered delivery, signed with the given or default secret", async () => {
    const secret = generateSecret();
    rcv.route("/seed", { secret });
    const mgr: WebhookManager = createWebhookManager({ secret, retries: 3, retryDelay: 1000, timeout: 10_000, baseUrl: server.baseUrl, apiKey: KEYS.acme });
    const timestamp = new Date().toISOString();
    const sent = await createWebhookManager({ secret, baseUrl: server.baseUrl, apiKey: KEYS.acme }).send(rcv.url("/seed"), {
      event: "seed.sent",
      payload: { n: 1, at: new Date(0) },
      timestamp,
    });
    expect(sent).toMatchObject({ status: "delivered", url: rcv.url("/seed"), event: "seed.sent", subscriptionId: "", nextAttemptAt: null });
    expect(sent.attempts).toHaveLength(1);
    expect(sent.attempts[0]!.statusCode).toBe(200);
    expect(sent.attempts[0]!.attemptedAt).toBeInstanceOf(Date);
    expect(typeof sent.attempts[0]!.durationMs).toBe("number");
    expect(roundTrip(sent)).toMatchObject({ id: sent.id, createdAt: sent.createdAt.toISOString() });
    const [got] = rcv.requests("/seed");
    expect(got!.verified, got!.verifyError).toBe(true);
    expect(JSON.parse(got!.body)).toEqual({ event: "seed.sent", payload: { n: 1, at: "1970-01-01T00:00:00.000Z" }, timestamp });
    const other = generateSecret();
    rcv.route("/seed2", { secret: other });
    await mgr.send(rcv.url("/seed2"), { event: "seed.sent", payload: null, timestamp }, other);
    expect(rcv.requests("/seed2")[0]!.verified).toBe(true);
  });

  it("send rejects with a DeliveryFailedError carrying every attempt when the receiver refuses", async () => {
    rcv.route("/down", { respond: () => ({ status: 503, body: "maintenance" }) });
    const err = await hw.send(rcv.url("/down"), { event: "x.y", payload: 1, timestamp: new Date().toISOString() }, "s3cret").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryFailedError);
    expect(err).toBeInstanceOf(HookwireError);
    expect(err).not.toBeInstanceOf(UnavailableError);
    const de = err as DeliveryFailedError;
    expect(de.code).toBe(Code.Aborted);
    expect(de.delivery.status).toBe("failed");
    expect(de.attempts.map((a) => a.statusCode)).toEqual([503, 503, 503]);
    expect(de.attempts[0]!.responseExcerpt).toBe("maintenance");
    expect(de.message).toMatch(/failed after 3 attempt\(s\): HTTP 503/);
    expect(roundTrip(de.delivery)).toMatchObject({ status: "failed" });
  });

  it("sign and verify are local, synchronous and equal to the Sign and Verify RPCs", async () => {
    for (const v of vectors.github) {
      expect(hw.sign(v.body, v.secret)).toBe(v.signature);
      expect(await hw.signRemote({ body: v.body, secret: v.secret })).toBe(v.signature);
      expect(hw.verify(v.body, v.signature, v.secret)).toBe(true);
    }
    for (let i = 0; i < 20; i++) {
      const body = JSON.stringify({ i, s: "ü".repeat(i) });
      const secret = `secret-${i}`;
      const local = hw.sign(body, secret);
      expect(local).toBe(await hw.signRemote({ body: new TextEncoder().encode(body), secret }));
      const tampered = local.slice(0, -1) + (local.endsWith("0") ? "1" : "0");
      for (const sig of [local, tampered, "garbage"]) {
        const remote = await hw.verifyRemote({ body, secret, signature: sig });
        expect(hw.verify(body, sig, secret)).toBe(remote.valid);
        expect(roundTrip(remote)).toEqual(remote);
      }
    }
  });
});

describe("errors", () => {
  it("are one class per kind, each a HookwireError with its gRPC code", async () => {
    const bad = await hw.register({ url: "ftp://nope", events: ["a"] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect(bad).toMatchObject({ code: Code.InvalidArgument, codeName: "INVALID_ARGUMENT", field: "url" });
    expect((bad as Error).message).toMatch(/^url: /);
    await expect(hw.send("http://127.0.0.1:9/x", { event: "a.b", payload: 1, timestamp: "" })).rejects.toBeInstanceOf(InvalidArgumentError); // no secret: refused before any call
    const nested = await hw.send("http://127.0.0.1:9/", { event: "", payload: 1, timestamp: "" }, "s").catch((e: unknown) => e);
    expect(nested).toMatchObject({ field: "payload.event" });

    const anon = createWebhookManager({ baseUrl: server.baseUrl, apiKey: "wrong" });
    const unauth = await anon.listSubscriptions().catch((e: unknown) => e);
    expect(unauth).toBeInstanceOf(UnauthenticatedError);
    expect(unauth).toMatchObject({ codeName: "UNAUTHENTICATED" });

    const missing = await hw.getSubscription("sub_doesnotexist0000000000000").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ code: Code.NotFound });

    for (const name of ["InvalidArgumentError", "UnauthenticatedError", "NotFoundError"]) {
      const e = { InvalidArgumentError: bad, UnauthenticatedError: unauth, NotFoundError: missing }[name] as Error;
      expect(e.name).toBe(name);
      expect(e).not.toBeInstanceOf(UnavailableError);
      expect(e).not.toBeInstanceOf(DeliveryFailedError);
    }
  });

  it("Hookwire unreachable is an UnavailableError, on every protocol", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    for (const protocol of ["grpc", "connect", "grpc-web"] as const) {
      const down = createWebhookManager({ baseUrl: `http://127.0.0.1:${closed}`, apiKey: KEYS.acme, protocol, rpcRetries: 1 });
      const err = await down.trigger("a.b", {}).catch((e: unknown) => e);
      expect(err, protocol).toBeInstanceOf(UnavailableError);
      expect(err).not.toBeInstanceOf(DeliveryFailedError);
    }
  });
});

/**
 * A Connect-over-HTTP/1.1 proxy to the server that, for the first Trigger only, passes the request on
 * and then drops the connection instead of the answer: the call was stored, the caller never heard.
 */
async function answerLosingProxy(target: RunningServer): Promise<{ url: string; triggers: () => number; close: () => Promise<void> }> {
  let triggers = 0;
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const isTrigger = req.url?.endsWith("/Trigger") ?? false;
      if (isTrigger) triggers++;
      const up = httpRequest(
        { host: "127.0.0.1", port: target.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          const body: Buffer[] = [];
          upRes.on("data", (c: Buffer) => body.push(c));
          upRes.on("end", () => {
            if (isTrigger && triggers === 1) return void req.socket.destroy();
            res.writeHead(upRes.statusCode ?? 502, upRes.headers).end(Buffer.concat(body));
          });
        },
      );
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    triggers: () => triggers,
    close: () => new Promise((r) => proxy.close(() => r())),
  };
}

describe("retries", () => {
  it("a Trigger whose answer was lost is tried again with the same idempotency key and delivered once", async () => {
    const reg = await hw.register({ url: rcv.url("/once"), events: ["once.*"] });
    rcv.route("/once", { secret: reg.secret });
    const proxy = await answerLosingProxy(server);
    try {
      const viaProxy = createWebhookManager({ baseUrl: proxy.url, apiKey: KEYS.acme, protocol: "connect" });
      const t = await viaProxy.trigger("once.done", { n: 1 });
      expect(proxy.triggers()).toBe(2);
      expect(t.deliveries).toBe(1);
      const msg = await hw.getMessage(t.messageId);
      expect(msg.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
      await rcv.waitFor(() => rcv.requests("/once").length > 0, 5000);
      await sleep(300); // a sleep: the repeated Trigger must not deliver a second time
      expect(rcv.requests("/once")).toHaveLength(1);
      expect((await hw.listDeliveries({ subscriptionId: reg.subscription.id })).deliveries).toHaveLength(1);
    } finally {
      await proxy.close();
      await hw.deleteSubscription(reg.subscription.id);
    }
  });
});

describe("typed calls", () => {
  it("register and update an endpoint's headers and rate limit; getSubscription alone answers the values; {} clears the headers", async () => {
    rcv.route("/settings", {});
    const reg = await hw.register({ url: rcv.url("/settings"), events: ["settings.*"], headers: { "X-Customer-Token": "tok-1" }, rateLimitPerSecond: 5 });
    const id = reg.subscription.id;
    expect(reg.subscription).toMatchObject({ headers: { "x-customer-token": "********" }, rateLimitPerSecond: 5 });
    expect((await hw.getSubscription(id)).headers).toEqual({ "x-customer-token": "tok-1" });
    await hw.trigger("settings.changed", { n: 1 });
    await rcv.waitFor((all) => all.some((r) => r.path === "/settings"));
    expect(rcv.requests("/settings")[0]!.headers["x-customer-token"]).toBe("tok-1");
    expect((await hw.updateSubscription({ id, description: "kept" })).headers).toEqual({ "x-customer-token": "********" });
    expect(await hw.updateSubscription({ id, headers: { "x-other": "2" }, rateLimitPerSecond: 0 })).toMatchObject({ headers: { "x-other": "********" }, rateLimitPerSecond: 0 });
    expect((await hw.updateSubscription({ id, headers: {} })).headers).toEqual({});
    const bad = await hw.updateSubscription({ id, headers: { "Content-Type": "text/plain" } }).catch((err: unknown) => err);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect((bad as InvalidArgumentError).field).toBe('headers["Content-Type"]');
    await hw.deleteSubscription(id);
  });

  it("answer plain objects: numbers, Dates, the payload as sent, string statuses, JSON-safe", async () => {
    const reg = await hw.register({ url: rcv.url("/typed"), events: ["typed.*"], description: "sdk" });
    const id = reg.subscription.id;
    expect(reg.subscription.createdAt).toBeInstanceOf(Date);
    expect(roundTrip(reg)).toMatchObject({ secret: reg.secret, subscription: { id, events: ["typed.*"] } });
    rcv.route("/typed", { secret: reg.secret, respond: (n) => ({ status: n === 1 ? 500 : 200 }) });
    expect((await hw.getSubscription(id)).description).toBe("sdk");
    const updated = await hw.updateSubscription({ id, retryDelayMs: 50 });
    expect(updated.retryDelayMs).toBe(50);
    const page = await hw.listSubscriptions({ pageSize: 100 });
    expect(page.subscriptions.map((s) => s.id)).toContain(id);
    expect(roundTrip(page)).toMatchObject({ nextPageToken: "" });

    const ac = new AbortController();
    const outcomes: DeliveryStatus[] = [];
    // The SDK's watch over a transport that says when the stream's response headers came, which the server sends
    // once its watch is registered: a Trigger after that misses no outcome.
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    const onOpen: Interceptor = (next) => async (req) => {
      const res = await next(req);
      if (res.stream) opened();
      return res;
    };
    const auth: Interceptor = (next) => (req) => {
      for (const [k, v] of Object.entries(bearer(KEYS.acme))) req.header.set(k, v);
      return next(req);
    };
    const watcher = createWebhookManager({ transport: createGrpcTransport({ baseUrl: server.baseUrl, interceptors: [auth, onOpen] }) });
    const watching = (async () => {
      for await (const d of watcher.watchDeliveries({ subscriptionId: id, signal: ac.signal })) {
        roundTrip(d);
        outcomes.push(d.status);
        if (d.status === "delivered") return;
      }
    })();
    await Promise.race([open, watching]); // the watch is open (or failed: watching says why)
    // JSON.parse keeps "__proto__" as an ordinary key, as a caller's parsed request body would have it.
    const payloadText = '{"ok":true,"list":[1,2.5,"three",null],"nested":{"deep":{"__proto__":"kept"}}}';
    const t = await hw.trigger("typed.created", JSON.parse(payloadText));
    expect(t).toEqual({ messageId: expect.stringMatching(/^msg_/), deliveries: 1 });
    await watching;
    ac.abort();
    expect(outcomes).toEqual(["pending", "delivered"]);
    const msg = await hw.getMessage(t.messageId);
    expect(msg.event).toBe("typed.created");
    expect(JSON.stringify(msg.payload)).toBe(payloadText);
    expect(msg.createdAt).toBeInstanceOf(Date);
    expect(typeof msg.deliveries).toBe("number");
    roundTrip(msg);
    const { deliveries } = await hw.listDeliveries({ messageId: t.messageId });
    expect(deliveries[0]!.attempts.map((a) => a.statusCode)).toEqual([500, 200]);
    expect((await hw.listDeliveries({ subscriptionId: id, status: "failed" })).deliveries).toEqual([]);
    roundTrip(deliveries);
    const again = await hw.redeliver(deliveries[0]!.id);
    expect(again.redeliveryOf).toBe(deliveries[0]!.id);
    roundTrip(again);
    const rotated = await hw.rotateSecret(id, { previousSecretTtlSeconds: 60 });
    expect(rotated.secret).toMatch(/^whsec_/);
    roundTrip(rotated);
    await expect(hw.rotateSecret(id, { previousSecretTtlSeconds: 1.5 })).rejects.toMatchObject({ field: "previousSecretTtlSeconds" });
    await expect(hw.listDeliveries({ subscriptionId: id, status: "lost" as DeliveryStatus })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await hw.deleteSubscription(id);
    await expect(hw.getSubscription(id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("client, the generated client, is authenticated by the transport", async () => {
    const res = await hw.client.listSubscriptions({ pageSize: 1 });
    expect(Array.isArray(res.subscriptions)).toBe(true);
    const sig = await hw.client.sign({ body: new TextEncoder().encode("x"), secret: "s" });
    expect(sig.signature).toBe(hw.sign("x", "s"));
  });

  it.each(["connect", "grpc-web"] as const)("works over %s on HTTP/1.1", async (protocol) => {
    const mgr = createWebhookManager({ baseUrl: server.baseUrl, apiKey: KEYS.acme, protocol });
    const v = vectors.standard_webhooks[0]!;
    const sig = await mgr.signRemote({ body: v.body, secret: v.secret, scheme: "standard-webhooks", webhookId: v.webhook_id, timestamp: v.timestamp });
    expect(sig).toBe(v.signature);
    expect(await mgr.verifyRemote({ body: v.body, secret: v.secret, signature: sig, scheme: "standard-webhooks", webhookId: v.webhook_id, timestamp: v.timestamp, toleranceSeconds: 10 ** 10 })).toEqual({ valid: true, reason: "" });
    await expect(mgr.signRemote({ body: "", secret: "s", scheme: "md5" as "github" })).rejects.toMatchObject({ field: "scheme" });
  });
});

describe("the customer portal", () => {
  it("createPortalSession for a customer; its token, as apiKey, acts for that customer only; sendTestEvent; revokePortalSessions ends it", async () => {
    const { secret, subscription } = await hw.register({ owner: "customer-42", url: rcv.url("/portal-sdk"), events: ["order.*"] });
    rcv.route("/portal-sdk", { secret });
    await hw.register({ owner: "customer-43", url: rcv.url("/portal-sdk-other"), events: ["order.*"] });
    const before = Date.now();
    const session = await hw.createPortalSession({ owner: "customer-42", ttlSeconds: 600, theme: { accentColor: "#ff6600", colorScheme: "dark", title: "Acme" } });
    expect(session.token).toMatch(/^hwp_[A-Za-z0-9_-]{43}$/);
    expect(session.url).toBe(`${server.baseUrl}/portal#token=${session.token}`);
    expect(session.expiresAt).toBeInstanceOf(Date);
    expect(session.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 599_000);
    expect(session.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 601_000);
    const customer = createWebhookManager({ baseUrl: server.baseUrl, apiKey: session.token });
    expect((await customer.listSubscriptions()).subscriptions.map((s) => s.id)).toEqual([subscription.id]);
    expect((await customer.register({ url: rcv.url("/portal-sdk-2"), events: ["order.*"] })).subscription.owner).toBe("customer-42");
    // A test event, from the customer's side: reaches its endpoint, signed.
    const test = await customer.sendTestEvent({ subscriptionId: subscription.id, event: "order.tested", payload: { ok: true } });
    expect(test.delivery).toMatchObject({ subscriptionId: subscription.id, owner: "customer-42", status: "pending", messageId: test.messageId });
    await rcv.waitFor((all) => all.some((r) => r.headers["webhook-id"] === test.messageId));
    expect(rcv.requests("/portal-sdk").find((r) => r.headers["webhook-id"] === test.messageId)).toMatchObject({ verified: true });
    // Beyond its scope: refused with the code, and bad input by its field.
    await expect(customer.trigger("order.created", {})).rejects.toMatchObject({ code: Code.PermissionDenied });
    await expect(hw.createPortalSession({ owner: "customer-42", theme: { colorScheme: "sepia" as "dark" } })).rejects.toMatchObject({ field: "theme.colorScheme" });
    await expect(hw.createPortalSession({ owner: "customer-42", ttlSeconds: 86_401 })).rejects.toMatchObject({ field: "ttl_seconds" });
    await expect(hw.sendTestEvent({ subscriptionId: subscription.id, event: "order.x", payload: [] as unknown as Record<string, unknown> })).rejects.toMatchObject({ field: "payload" });
    // Revoked: the customer's next call is refused.
    expect(await hw.revokePortalSessions("customer-42")).toBe(1);
    await expect(customer.listSubscriptions()).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(await hw.revokePortalSessions("customer-42")).toBe(0);
  });
});

describe("receiver helpers", () => {
  it("verify real deliveries from Node requests and Fetch requests", async () => {
    type Checks = Record<"node" | "fetch" | "tampered" | "stale" | "mixedCase" | "web" | "webRequest" | "webMixedCase", VerifiedDelivery>;
    const results: Checks[] = [];
    let secret = "";
    const own = createServer(async (req: IncomingMessage, res) => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const node = await verifyRequest(req, { secret });
      const fetchReq = () => new Request("http://127.0.0.1/", { method: "POST", headers, body: node.body });
      // The names as a framework might spell them: "Webhook-Id", "WEBHOOK-SIGNATURE".
      const mixedCase = Object.fromEntries(Object.entries(req.headers).map(([k, v], i) => [i % 2 ? k.toUpperCase() : k.replace(/(^|-)(\w)/g, (m) => m.toUpperCase()), v]));
      results.push({
        node,
        fetch: await verifyRequest(fetchReq(), { secret }),
        mixedCase: await verifyDelivery(mixedCase, node.body, { secret }),
        web: await web.verifyDelivery(headers, node.body, { secret }),
        webRequest: await web.verifyRequest(fetchReq(), { secret }),
        webMixedCase: await web.verifyDelivery(mixedCase, new TextEncoder().encode(node.body), { secret }),
        tampered: await verifyDelivery(req.headers, node.body + " ", { secret }),
        stale: await verifyDelivery(req.headers, node.body, { secret, now: Math.floor(Date.now() / 1000) + 3600 }),
      });
      res.writeHead(node.valid ? 204 : 400).end();
    });
    await new Promise<void>((r) => own.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(own.address() as AddressInfo).port}/in`;
      const reg = await hw.register({ url, events: ["helper.test"] });
      secret = reg.secret;
      const t = await hw.trigger("helper.test", { a: 1 });
      const [r] = await waitFor(() => results.length > 0 && results, { timeoutMs: 5000, what: "the delivery at the receiver" });
      expect(r!.node).toMatchObject({ valid: true, scheme: "standard-webhooks", webhookId: t.messageId, event: "helper.test" });
      for (const k of ["fetch", "mixedCase", "web", "webRequest", "webMixedCase"] as const) {
        expect(r![k], k).toEqual(r!.node);
      }
      expect(r!.tampered).toMatchObject({ valid: false, reason: "signature does not match" });
      expect(r!.stale).toMatchObject({ valid: false, reason: "timestamp is too old" });
      // With a plain (non-whsec) secret only the GitHub-style header can be checked.
      const gh = await verifyDelivery({ "x-hub-signature-256": hw.sign("{}", "plain") }, "{}", { secret: "plain" });
      expect(gh).toMatchObject({ valid: true, scheme: "github" });
      expect(await verifyDelivery({}, "{}", { secret: "plain" })).toMatchObject({ valid: false });
    } finally {
      own.close();
    }
  });
});
