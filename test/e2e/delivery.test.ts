// Trigger, the request Hookwire sends, retries and the delivery log, against a real receiver.
import { Code } from "@connectrpc/connect";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryStatus } from "@hookwire/sdk/proto";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, failure, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";

let server: RunningServer;
let rcv: Receiver;
let client: ReturnType<typeof grpcClient>;
const acme = { headers: bearer(KEYS.acme) };
const globex = { headers: bearer(KEYS.globex) };
const json = (v: unknown) => fromJson(ValueSchema, v as never);
let pathNo = 0;
const freshPath = () => `/hook${++pathNo}`;

async function settled(messageId: string, count = 1, timeoutMs = 15_000) {
  let last: DeliveryStatus[] = [];
  return waitFor(
    async () => {
      const { deliveries } = await client.listDeliveries({ messageId }, acme);
      last = deliveries.map((d) => d.status);
      return deliveries.length >= count && deliveries.every((d) => d.status !== DeliveryStatus.PENDING) ? deliveries : undefined;
    },
    { timeoutMs, what: () => `deliveries of ${messageId} ended (still ${JSON.stringify(last)})` },
  );
}

beforeAll(async () => {
  rcv = await startReceiver();
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_RETRY_DELAY_MS: "100", HOOKWIRE_POLL_MS: "100" } });
  client = grpcClient(server);
});
afterAll(async () => {
  await server.stop();
  await rcv.close();
});

describe("Trigger", () => {
  it("delivers to every matching active subscription of the tenant, signed, with the envelope", async () => {
    const paths = { exact: freshPath(), prefix: freshPath(), all: freshPath(), other: freshPath(), disabled: freshPath(), foreign: freshPath() };
    const reg = async (path: string, events: string[], opts = acme) => {
      const r = await client.register({ url: rcv.url(path), events }, opts);
      rcv.route(path, { secret: r.secret });
      return r.subscription!.id;
    };
    await reg(paths.exact, ["invoice.paid"]);
    await reg(paths.prefix, ["invoice.*"]);
    const star = await reg(paths.all, ["*"]);
    await reg(paths.other, ["invoice.created", "order.*"]);
    const off = await reg(paths.disabled, ["invoice.paid"]);
    await client.updateSubscription({ id: off, disabled: true }, acme);
    await reg(paths.foreign, ["*"], globex);

    const payload = { amount: 1250, currency: "EUR", lines: [{ sku: "A-1", qty: 2 }], note: "ü€", ok: true, none: null };
    const res = await client.trigger({ event: "invoice.paid", payload: json(payload) }, acme);
    expect(res.messageId).toMatch(/^msg_[0-9a-z]+$/);
    expect(res.deliveries).toBe(3);
    await rcv.waitFor(() => [paths.exact, paths.prefix, paths.all].every((p) => rcv.requests(p).length === 1));
    await settled(res.messageId, 3);
    for (const p of [paths.other, paths.disabled, paths.foreign]) expect(rcv.requests(p)).toHaveLength(0);

    for (const p of [paths.exact, paths.prefix, paths.all]) {
      const [r] = rcv.requests(p);
      expect(r!.verified, r!.verifyError).toBe(true);
      expect(r!.headers["webhook-id"]).toBe(res.messageId);
      expect(r!.headers["x-webhook-event"]).toBe("invoice.paid");
      expect(r!.headers["content-type"]).toBe("application/json");
      expect(r!.headers["user-agent"]).toMatch(/^Hookwire\//);
      expect(Math.abs(Number(r!.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(30);
      const body = JSON.parse(r!.body) as { event: string; payload: unknown; timestamp: string };
      expect(Object.keys(body)).toEqual(["event", "payload", "timestamp"]);
      expect(body.event).toBe("invoice.paid");
      expect(body.payload).toEqual(payload);
      expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false);
    }
    const msg = (await client.getMessage({ id: res.messageId }, acme)).message!;
    expect(msg).toMatchObject({ id: res.messageId, event: "invoice.paid", deliveries: 3 });
    expect(msg.timestamp).toBe((JSON.parse(rcv.requests(paths.exact)[0]!.body) as { timestamp: string }).timestamp);
    expect((await failure(client.getMessage({ id: res.messageId }, globex))).code).toBe(Code.NotFound);
    // The catch-all would take part in every later test's message.
    await client.deleteSubscription({ id: star }, acme);
  });

  it("answers the first message for a repeated idempotency key and creates nothing new", async () => {
    const path = freshPath();
    const r = await client.register({ url: rcv.url(path), events: ["idem.test"] }, acme);
    rcv.route(path, { secret: r.secret });
    const first = await client.trigger({ event: "idem.test", payload: json({ n: 1 }), idempotencyKey: "key-1" }, acme);
    const again = await client.trigger({ event: "idem.test", payload: json({ n: 2 }), idempotencyKey: "key-1" }, acme);
    expect(again).toEqual(first);
    const otherTenant = await client.trigger({ event: "idem.test", payload: json({ n: 3 }), idempotencyKey: "key-1" }, globex);
    expect(otherTenant.messageId).not.toBe(first.messageId);
    // A repeat after a new subscription matches: the first answer still, and nothing for the newcomer.
    const later = freshPath();
    const r2 = await client.register({ url: rcv.url(later), events: ["idem.*"] }, acme);
    rcv.route(later, { secret: r2.secret });
    expect(await client.trigger({ event: "idem.test", payload: json({ n: 4 }), idempotencyKey: "key-1" }, acme)).toEqual(first);
    await settled(first.messageId);
    await sleep(300); // a sleep: no second delivery may arrive for the repeated key, nor one for the newcomer
    expect(rcv.requests(path)).toHaveLength(1);
    expect(rcv.requests(later)).toHaveLength(0);
    expect((await client.listDeliveries({ messageId: first.messageId }, acme)).deliveries).toHaveLength(1);
    await client.deleteSubscription({ id: r2.subscription!.id }, acme);
    expect(JSON.parse(rcv.requests(path)[0]!.body).payload).toEqual({ n: 1 });
  });

  it("stores a message that matches nothing", async () => {
    const res = await client.trigger({ event: "nobody.listens" }, acme);
    expect(res.deliveries).toBe(0);
    const msg = (await client.getMessage({ id: res.messageId }, acme)).message!;
    expect(msg.payload?.kind.case).toBe("nullValue");
  });

  it("refuses bad events and payloads over the limit", async () => {
    for (const event of ["", "order.*", "bad event", "*"]) {
      const err = await failure(client.trigger({ event }, acme));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toMatch(/^event: /);
    }
    const big = await failure(client.trigger({ event: "big.one", payload: json("x".repeat(256 * 1024)) }, acme));
    expect(big.code).toBe(Code.ResourceExhausted);
    expect(big.rawMessage).toMatch(/^payload: \d+ bytes is over the limit of 262144 bytes/);
    const key = await failure(client.trigger({ event: "a.b", idempotencyKey: "k".repeat(300) }, acme));
    expect(key.rawMessage).toMatch(/^idempotency_key: /);
  });
});

describe("retries", () => {
  it("a receiver answering 500, 500, 200 gets exactly 3 attempts, spaced by the backoff", async () => {
    const path = freshPath();
    const r = await client.register({ url: rcv.url(path), events: ["retry.me"], retries: 5, retryDelayMs: 300 }, acme);
    expect(r.subscription).toMatchObject({ retries: 5, retryDelayMs: 300 });
    rcv.route(path, { secret: r.secret, respond: (n) => ({ status: n < 3 ? 500 : 200, body: `answer ${n}` }) });
    const res = await client.trigger({ event: "retry.me", payload: json({ x: 1 }) }, acme);
    const [d] = await settled(res.messageId);
    expect(d!.status).toBe(DeliveryStatus.DELIVERED);
    expect(d!.attempts.map((a) => a.statusCode)).toEqual([500, 500, 200]);
    expect(d!.attempts.map((a) => a.responseExcerpt)).toEqual(["answer 1", "answer 2", "answer 3"]);
    await sleep(700); // a sleep: no fourth attempt may follow the 200 (longer than the next backoff would be)
    const got = rcv.requests(path);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((g) => g.headers["webhook-id"]))).toEqual(new Set([res.messageId]));
    expect(new Set(got.map((g) => g.body)).size).toBe(1); // byte-identical on every retry
    expect(got.every((g) => g.verified)).toBe(true);
    // Backoff: 300 ms then 600 ms, each scaled by 0.8..1.2 (jitter), plus processing time.
    const gap1 = got[1]!.at - got[0]!.at;
    const gap2 = got[2]!.at - got[1]!.at;
    expect(gap1).toBeGreaterThanOrEqual(240 - 15);
    expect(gap1).toBeLessThan(360 + 400);
    expect(gap2).toBeGreaterThanOrEqual(480 - 15);
    expect(gap2).toBeLessThan(720 + 400);
  });

  it("a receiver answering 400 forever ends failed after retries + 1 attempts", async () => {
    const path = freshPath();
    const r = await client.register({ url: rcv.url(path), events: ["always.bad"], retries: 2, retryDelayMs: 50 }, acme);
    rcv.route(path, { secret: r.secret, respond: () => ({ status: 400, body: "no thanks".repeat(300) }) });
    const res = await client.trigger({ event: "always.bad" }, acme);
    const [d] = await settled(res.messageId);
    expect(d!.status).toBe(DeliveryStatus.FAILED);
    expect(d!.attempts.map((a) => a.statusCode)).toEqual([400, 400, 400]);
    expect(d!.attempts[0]!.responseExcerpt.length).toBe(1024);
    await sleep(300); // a sleep: no attempt may follow the last one
    expect(rcv.requests(path)).toHaveLength(3);
    const failed = await client.listDeliveries({ subscriptionId: r.subscription!.id, status: DeliveryStatus.FAILED }, acme);
    expect(failed.deliveries.map((x) => x.id)).toEqual([d!.id]);
    const delivered = await client.listDeliveries({ subscriptionId: r.subscription!.id, status: DeliveryStatus.DELIVERED }, acme);
    expect(delivered.deliveries).toEqual([]);
  });

  it("each attempt to a receiver that never answers ends at the timeout", async () => {
    const path = freshPath();
    const r = await client.register({ url: rcv.url(path), events: ["never.answers"], retries: 1, retryDelayMs: 50, timeoutMs: 600 }, acme);
    rcv.route(path, { secret: r.secret, respond: () => ({ status: 200, hang: true }) });
    const res = await client.trigger({ event: "never.answers" }, acme);
    const [d] = await settled(res.messageId);
    expect(d!.status).toBe(DeliveryStatus.FAILED);
    expect(d!.attempts).toHaveLength(2);
    for (const a of d!.attempts) {
      expect(a.statusCode).toBe(0);
      expect(a.error).toBe("timed out after 600 ms");
      expect(Number(a.durationMs)).toBeGreaterThanOrEqual(590);
      expect(Number(a.durationMs)).toBeLessThan(1500);
    }
  });

  it("honours Retry-After on 429", async () => {
    const path = freshPath();
    const r = await client.register({ url: rcv.url(path), events: ["slow.down"], retries: 1, retryDelayMs: 10 }, acme);
    rcv.route(path, { secret: r.secret, respond: (n) => (n === 1 ? { status: 429, headers: { "retry-after": "1" } } : { status: 204 }) });
    const res = await client.trigger({ event: "slow.down" }, acme);
    const [d] = await settled(res.messageId);
    expect(d!.status).toBe(DeliveryStatus.DELIVERED);
    const got = rcv.requests(path);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it("does not follow redirects: a 3xx is a failed attempt", async () => {
    const path = freshPath();
    const target = freshPath();
    const r = await client.register({ url: rcv.url(path), events: ["moved.away"], retries: 0 }, acme);
    rcv.route(path, { secret: r.secret, respond: () => ({ status: 302, headers: { location: rcv.url(target) } }) });
    const res = await client.trigger({ event: "moved.away" }, acme);
    const [d] = await settled(res.messageId);
    expect(d!.status).toBe(DeliveryStatus.FAILED);
    expect(d!.attempts.map((a) => a.statusCode)).toEqual([302]);
    expect(rcv.requests(target)).toHaveLength(0);
  });

  it("410 Gone fails the delivery at once and disables the subscription", async () => {
    const path = freshPath();
    const r = await client.register({ url: rcv.url(path), events: ["gone.away"], retries: 5, retryDelayMs: 50 }, acme);
    rcv.route(path, { secret: r.secret, respond: () => ({ status: 410 }) });
    const res = await client.trigger({ event: "gone.away" }, acme);
    const [d] = await settled(res.messageId);
    expect(d!.status).toBe(DeliveryStatus.FAILED);
    expect(d!.attempts).toHaveLength(1);
    const sub = (await client.getSubscription({ id: r.subscription!.id }, acme)).subscription!;
    expect(sub.disabled).toBe(true);
    expect(sub.disabledReason).toMatch(/410/);
    expect((await client.trigger({ event: "gone.away" }, acme)).deliveries).toBe(0);
  });
});

describe("the delivery log", () => {
  it("pages deliveries of a subscription and redelivers a finished one", async () => {
    const path = freshPath();
    const r = await client.register({ url: rcv.url(path), events: ["log.*"], retries: 0 }, acme);
    let failFirst = true;
    rcv.route(path, { secret: r.secret, respond: () => (failFirst ? ((failFirst = false), { status: 500 }) : { status: 200 }) });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = await client.trigger({ event: "log.entry", payload: json({ i }) }, acme);
      ids.push(t.messageId);
      await settled(t.messageId);
    }
    const seen: string[] = [];
    let token = "";
    do {
      const page = await client.listDeliveries({ subscriptionId: r.subscription!.id, pageSize: 2, pageToken: token }, acme);
      seen.push(...page.deliveries.map((d) => d.messageId));
      token = page.nextPageToken;
    } while (token);
    expect(seen).toEqual(ids);

    const [failed] = (await client.listDeliveries({ messageId: ids[0]!, status: DeliveryStatus.FAILED }, acme)).deliveries;
    expect(failed).toBeDefined();
    const again = (await client.redeliver({ deliveryId: failed!.id }, acme)).delivery!;
    expect(again.id).not.toBe(failed!.id);
    expect(again.redeliveryOf).toBe(failed!.id);
    expect(again.messageId).toBe(ids[0]);
    const all = await settled(ids[0]!, 2);
    expect(all.map((d) => d.status)).toEqual([DeliveryStatus.FAILED, DeliveryStatus.DELIVERED]);
    expect(rcv.requests(path).filter((q) => q.headers["webhook-id"] === ids[0])).toHaveLength(2);
  });

  it("lists a delivery still waiting for its first outcome as pending, and will not redeliver it yet", async () => {
    const path = freshPath();
    const r = await client.register({ url: rcv.url(path), events: ["slow.first"] }, acme);
    rcv.route(path, { secret: r.secret, respond: () => ({ status: 200, delayMs: 1500 }) });
    const t = await client.trigger({ event: "slow.first" }, acme);
    await rcv.waitFor(() => rcv.requests(path).length === 1);
    const pending = await client.listDeliveries({ messageId: t.messageId, status: DeliveryStatus.PENDING }, acme);
    expect(pending.deliveries.map((d) => [d.subscriptionId, d.status, d.attempts.length])).toEqual([[r.subscription!.id, DeliveryStatus.PENDING, 0]]);
    const bySub = await client.listDeliveries({ subscriptionId: r.subscription!.id }, acme);
    expect(bySub.deliveries.map((d) => d.id)).toEqual([pending.deliveries[0]!.id]);
    const err = await failure(client.redeliver({ deliveryId: pending.deliveries[0]!.id }, acme));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toMatch(/is still pending/);
    const [done] = await settled(t.messageId);
    expect(done!.status).toBe(DeliveryStatus.DELIVERED);
    expect((await client.listDeliveries({ messageId: t.messageId, status: DeliveryStatus.PENDING }, acme)).deliveries).toEqual([]);
  });

  it("refuses bad log queries", async () => {
    expect((await failure(client.listDeliveries({ messageId: "msg_1", subscriptionId: "sub_1" }, acme))).rawMessage).toMatch(/^message_id: set at most one/);
    expect((await failure(client.redeliver({ deliveryId: "dlv_000000000000000000000000000000" }, acme))).code).toBe(Code.NotFound);
    expect((await failure(client.redeliver({ deliveryId: "nope" }, acme))).rawMessage).toMatch(/^delivery_id: /);
  });
});

describe("Send", () => {
  it("answers once delivered, with the attempts", async () => {
    const path = freshPath();
    const secret = "whsec_" + Buffer.alloc(32, 9).toString("base64");
    rcv.route(path, { secret, respond: (n) => ({ status: n === 1 ? 503 : 200 }) });
    const res = await client.send(
      { url: rcv.url(path), secret, payload: { event: "direct.send", payload: json({ a: 1 }), timestamp: "2026-01-02T03:04:05.000Z" }, retries: 2, retryDelayMs: 50 },
      acme,
    );
    expect(res.delivery!.status).toBe(DeliveryStatus.DELIVERED);
    expect(res.delivery!.attempts.map((a) => a.statusCode)).toEqual([503, 200]);
    const got = rcv.requests(path);
    expect(got.every((g) => g.verified)).toBe(true);
    expect(JSON.parse(got[0]!.body)).toEqual({ event: "direct.send", payload: { a: 1 }, timestamp: "2026-01-02T03:04:05.000Z" });
  });

  it("answers failed with every attempt when the endpoint never succeeds", async () => {
    const path = freshPath();
    rcv.route(path, { respond: () => ({ status: 500 }) });
    const res = await client.send({ url: rcv.url(path), secret: "plain secret", payload: { event: "direct.fail" }, retries: 1, retryDelayMs: 20 }, acme);
    expect(res.delivery!.status).toBe(DeliveryStatus.FAILED);
    expect(res.delivery!.attempts.map((a) => a.statusCode)).toEqual([500, 500]);
    // A plain secret signs the GitHub-style header only.
    const [first] = rcv.requests(path);
    expect(first!.headers["x-hub-signature-256"]).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(first!.headers["webhook-signature"]).toBeUndefined();
  });

  it("answers DEADLINE_EXCEEDED when the call's deadline comes first, and the delivery goes on", async () => {
    const path = freshPath();
    let n = 0;
    rcv.route(path, { respond: () => (++n === 1 ? { status: 200, delayMs: 1500 } : { status: 200 }) });
    const started = Date.now();
    const err = await failure(client.send({ url: rcv.url(path), secret: "s", payload: { event: "slow.send" }, timeoutMs: 5000 }, { ...acme, timeoutMs: 500 }));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(Date.now() - started).toBeLessThan(1400);
    // Accepted before the deadline, so it is stored and finishes anyway.
    await rcv.waitFor(() => rcv.requests(path).length === 1);
    const messageId = String(rcv.requests(path)[0]!.headers["webhook-id"]);
    const [d] = await settled(messageId);
    expect(d!.status).toBe(DeliveryStatus.DELIVERED);
    expect(d!.attempts).toHaveLength(1);
  });

  it("refuses bad input", async () => {
    const e1 = await failure(client.send({ url: rcv.url("/x"), secret: "", payload: { event: "a.b" } }, acme));
    expect(e1.rawMessage).toMatch(/^secret: /);
    const e2 = await failure(client.send({ url: "ftp://x", secret: "s", payload: { event: "a.b" } }, acme));
    expect(e2.rawMessage).toMatch(/^url: /);
    const e3 = await failure(client.send({ url: rcv.url("/x"), secret: "s" }, acme));
    expect(e3.rawMessage).toMatch(/^payload: is required/);
    const e4 = await failure(client.send({ url: rcv.url("/x"), secret: "s", payload: { event: "a.b", timestamp: "yesterday" } }, acme));
    expect(e4.rawMessage).toMatch(/^payload.timestamp: /);
    const e5 = await failure(client.send({ url: rcv.url("/x"), secret: "s", payload: { event: "a.b" }, timeoutMs: 5 }, acme));
    expect(e5.rawMessage).toMatch(/^timeout_ms: 5 is outside/);
  });
});

describe("WatchDeliveries", () => {
  it("streams the tenant's outcomes as they happen", async () => {
    const path = freshPath();
    const r = await client.register({ url: rcv.url(path), events: ["watch.me"], retries: 1, retryDelayMs: 50 }, acme);
    rcv.route(path, { secret: r.secret, respond: (n) => ({ status: n === 1 ? 500 : 200 }) });
    const ac = new AbortController();
    // The response headers come once the server's watch is registered: no later outcome is missed.
    let opened!: () => void;
    const open = new Promise<void>((res) => (opened = res));
    const stream = client.watchDeliveries({ subscriptionId: r.subscription!.id }, { ...acme, signal: ac.signal, onHeader: () => opened() });
    const events: Array<[DeliveryStatus, number]> = [];
    const reading = (async () => {
      try {
        for await (const ev of stream) {
          events.push([ev.delivery!.status, ev.delivery!.attempts.length]);
          if (ev.delivery!.status === DeliveryStatus.DELIVERED) break;
        }
      } catch (err) {
        if (!ac.signal.aborted) throw err;
      }
    })();
    await Promise.race([open, reading]); // the stream is open before the event (or it failed: reading says why)
    await client.trigger({ event: "watch.me" }, acme);
    await Promise.race([reading, new Promise((_, rej) => setTimeout(() => rej(new Error("no outcome streamed")), 10_000))]);
    ac.abort();
    expect(events).toEqual([
      [DeliveryStatus.PENDING, 1],
      [DeliveryStatus.DELIVERED, 2],
    ]);
  });

  it("answers NOT_FOUND for an unknown or another tenant's subscription_id", async () => {
    const theirs = await client.register({ url: rcv.url(freshPath()), events: ["*"] }, globex);
    for (const id of ["sub_00000000000000000000000000000", theirs.subscription!.id]) {
      const err = await failure(
        (async () => {
          for await (const _ of client.watchDeliveries({ subscriptionId: id }, { ...acme, signal: AbortSignal.timeout(5000) })) break;
        })(),
      );
      expect(err.code).toBe(Code.NotFound);
      expect(err.rawMessage).toBe(`subscription_id: subscription "${id}" not found`);
    }
  });
});

describe("RotateSecret", () => {
  it("signs with the new secret and, until it expires, the previous one too", async () => {
    const path = freshPath();
    const r = await client.register({ url: rcv.url(path), events: ["rotate.*"] }, acme);
    const oldSecret = r.secret;
    const rotated = await client.rotateSecret({ id: r.subscription!.id, previousSecretTtlSeconds: 2n }, acme);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(oldSecret);
    expect(rotated.subscription!.id).toBe(r.subscription!.id);

    // During the overlap a receiver verifies with either secret (standardwebhooks accepts any listed signature).
    rcv.route(path, { secret: rotated.secret });
    const during = await client.trigger({ event: "rotate.during" }, acme);
    await settled(during.messageId);
    const first = rcv.requests(path)[0]!;
    expect(first.verified, first.verifyError).toBe(true);
    expect(String(first.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    const { Webhook } = await import("standardwebhooks");
    const headers = {
      "webhook-id": String(first.headers["webhook-id"]),
      "webhook-timestamp": String(first.headers["webhook-timestamp"]),
      "webhook-signature": String(first.headers["webhook-signature"]),
    };
    expect(() => new Webhook(oldSecret).verify(first.body, headers)).not.toThrow();

    // After the previous secret expires, only the new one signs (a sleep: its 2 s must pass).
    await sleep(2100);
    const after = await client.trigger({ event: "rotate.after" }, acme);
    await settled(after.messageId);
    const second = rcv.requests(path)[1]!;
    expect(second.verified, second.verifyError).toBe(true);
    expect(String(second.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(() =>
      new Webhook(oldSecret).verify(second.body, {
        "webhook-id": String(second.headers["webhook-id"]),
        "webhook-timestamp": String(second.headers["webhook-timestamp"]),
        "webhook-signature": String(second.headers["webhook-signature"]),
      }),
    ).toThrow();
  });

  it("refuses a bad secret or time to live, and other tenants' subscriptions", async () => {
    const r = await client.register({ url: rcv.url(freshPath()), events: ["rotate.*"] }, acme);
    const id = r.subscription!.id;
    expect((await failure(client.rotateSecret({ id, secret: "short" }, acme))).rawMessage).toMatch(/^secret: /);
    expect((await failure(client.rotateSecret({ id, previousSecretTtlSeconds: 10_000_000n }, acme))).rawMessage).toMatch(/^previous_secret_ttl_seconds: /);
    expect((await failure(client.rotateSecret({ id }, globex))).code).toBe(Code.NotFound);
    const given = "whsec_" + Buffer.alloc(32, 3).toString("base64");
    expect((await client.rotateSecret({ id, secret: given }, acme)).secret).toBe(given);
  });
});
