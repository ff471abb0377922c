// Per-tenant quotas on the real server, set small through its environment: each one answers
// RESOURCE_EXHAUSTED naming the quota and its setting, another tenant is not affected, and within the
// quotas everything works. The token bucket under the Trigger rate is checked on a clock of its own.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenBucket } from "../../server/domain/token-bucket.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, failure, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";

const acme = { headers: bearer(KEYS.acme) };
const globex = { headers: bearer(KEYS.globex) };
const num = (value: number) => ({ kind: { case: "numberValue" as const, value } });

describe("the token bucket", () => {
  it("gives its burst at once, then its rate, and says how long until the next token", () => {
    let now = 1_000;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 0]);
    expect(bucket.take()).toBe(100);
    now += 50;
    expect(bucket.take()).toBe(50);
    now += 50;
    expect(bucket.take()).toBe(0);
    // A long quiet spell refills to the burst, no further.
    now += 60_000;
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 0, 100]);
    // A clock that steps back refills nothing.
    now -= 10_000;
    expect(bucket.take()).toBeGreaterThan(0);
    expect(() => new TokenBucket(0, 1)).toThrow(/rate 0/);
  });
});

describe("quotas on the server", () => {
  let server: RunningServer;
  let rcv: Receiver;
  /** A loopback port nothing listens on: a Send there ends at once, refused. */
  const nowhere = "http://127.0.0.1:9/nowhere";

  beforeAll(async () => {
    rcv = await startReceiver();
    server = await startServer({
      env: {
        HOOKWIRE_ALLOW_PRIVATE_URLS: "true",
        HOOKWIRE_MAX_SUBSCRIPTIONS: "3",
        HOOKWIRE_MAX_EVENTS_PER_SUBSCRIPTION: "2",
        HOOKWIRE_MAX_WATCHES_PER_TENANT: "2",
        HOOKWIRE_TRIGGER_RATE: "1",
        HOOKWIRE_TRIGGER_BURST: "3",
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await rcv?.close();
  });

  /** A WatchDeliveries stream, resolved once the server has it open (its response headers came). */
  function watch(options: { headers: Record<string, string> }) {
    const abort = new AbortController();
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    const it = grpcClient(server).watchDeliveries({}, { ...options, signal: abort.signal, onHeader: () => opened() })[Symbol.asyncIterator]();
    const first = it.next();
    first.catch(() => undefined);
    return { open: Promise.race([open, first.then(() => undefined)]), first, close: () => abort.abort() };
  }

  it("within the quotas: register, watch, trigger and deliver as ever", async () => {
    const client = grpcClient(server);
    const reg = await client.register({ url: rcv.url("/ok"), events: ["order.*", "invoice.paid"] }, acme);
    expect(reg.subscription?.events).toEqual(["order.*", "invoice.paid"]);
    const w = watch(acme);
    await w.open;
    const res = await client.trigger({ event: "order.created", payload: num(1) }, acme);
    expect(res.deliveries).toBe(1);
    await rcv.waitFor((all) => all.some((r) => r.path === "/ok"));
    const seen = await w.first;
    expect(seen.value?.delivery?.subscriptionId).toBe(reg.subscription!.id);
    w.close();
  });

  it("event patterns per subscription: Register and UpdateSubscription over it are refused", async () => {
    const client = grpcClient(server);
    const three = ["a.one", "a.two", "a.three"];
    const over = await failure(client.register({ url: rcv.url("/p"), events: three }, acme));
    expect(over.code).toBe(Code.ResourceExhausted);
    expect(over.rawMessage).toBe("events: lists 3 event patterns, over the quota of 2 per subscription (HOOKWIRE_MAX_EVENTS_PER_SUBSCRIPTION)");
    const [sub] = (await client.listSubscriptions({}, acme)).subscriptions;
    const update = await failure(client.updateSubscription({ id: sub!.id, events: three }, acme));
    expect(update.code).toBe(Code.ResourceExhausted);
    expect(update.rawMessage).toMatch(/^events: lists 3 event patterns, over the quota of 2/);
    expect((await client.updateSubscription({ id: sub!.id, events: ["a.one", "a.two"] }, acme)).subscription?.events).toEqual(["a.one", "a.two"]);
  });

  it("subscriptions per tenant: the one over is refused, disabled ones count, a deleted one frees its place; another tenant is unaffected", async () => {
    const client = grpcClient(server);
    // acme has one from the first test.
    const second = await client.register({ url: rcv.url("/s2"), events: ["*"] }, acme);
    await client.register({ url: rcv.url("/s3"), events: ["*"] }, acme);
    await client.updateSubscription({ id: second.subscription!.id, disabled: true }, acme);
    const over = await failure(client.register({ url: rcv.url("/s4"), events: ["*"] }, acme));
    expect(over.code).toBe(Code.ResourceExhausted);
    expect(over.rawMessage).toMatch(/^subscriptions: tenant "acme" has 3 subscriptions and its quota is 3 \(HOOKWIRE_MAX_SUBSCRIPTIONS\); delete one before registering another$/);
    // A bad request is still told what is wrong with it, not that the quota is full.
    expect((await failure(client.register({ url: "", events: ["*"] }, acme))).code).toBe(Code.InvalidArgument);
    for (let i = 0; i < 3; i++) await client.register({ url: rcv.url(`/g${i}`), events: ["*"] }, globex);
    await client.deleteSubscription({ id: second.subscription!.id }, acme);
    expect((await client.register({ url: rcv.url("/s4"), events: ["*"] }, acme)).subscription?.url).toBe(rcv.url("/s4"));
    expect((await failure(client.register({ url: rcv.url("/s5"), events: ["*"] }, acme))).code).toBe(Code.ResourceExhausted);
  });

  it("watch streams per tenant: the one over is refused at once, another tenant's opens, a closed or failed stream frees its slot", async () => {
    const client = grpcClient(server);
    // Streams that fail before they start (an unknown subscription) give their slot back.
    for (let i = 0; i < 3; i++) {
      const err = await failure(
        (async () => {
          for await (const _ of client.watchDeliveries({ subscriptionId: "sub_000000000000000000000000000" }, acme)) break;
        })(),
      );
      expect(err.code).toBe(Code.NotFound);
    }
    const one = watch(acme);
    const two = watch(acme);
    await Promise.all([one.open, two.open]);
    const third = watch(acme);
    const refused = await failure(third.first);
    expect(refused.code).toBe(Code.ResourceExhausted);
    expect(refused.rawMessage).toBe('watches: tenant "acme" has 2 WatchDeliveries streams open and its quota is 2 (HOOKWIRE_MAX_WATCHES_PER_TENANT); close one first');
    const theirs = watch(globex);
    await theirs.open;
    one.close();
    // The slot comes back once the server sees the cancel: try until then (each try is refused at once).
    let last: ConnectError | undefined;
    const reopened = await waitFor(
      async () => {
        const next = watch(acme);
        const outcome = await Promise.race([next.open.then(() => "open" as const), failure(next.first)]);
        if (outcome === "open") return next;
        last = outcome;
        expect(last.code).toBe(Code.ResourceExhausted);
        return undefined;
      },
      { timeoutMs: 5000, what: () => `a watch again (still refused: ${last?.rawMessage})` },
    );
    for (const w of [two, theirs, reopened]) w.close();
  });

  it("Triggers and Sends per second per tenant: over the rate is refused with when to retry; another tenant is unaffected; later it is accepted again", async () => {
    const client = grpcClient(server);
    // A burst of 3, then 1 a second: Triggers made back to back run out within a few.
    let accepted = 0;
    let refused: ConnectError | undefined;
    for (let i = 0; i < 30 && !refused; i++) {
      try {
        await client.trigger({ event: "rate.test", payload: num(i) }, acme);
        accepted++;
      } catch (err) {
        refused = err as ConnectError;
      }
    }
    expect(accepted).toBeGreaterThanOrEqual(2); // the burst, less what the earlier tests took
    expect(refused?.code).toBe(Code.ResourceExhausted);
    expect(refused?.rawMessage).toMatch(
      /^trigger_rate: tenant "acme" is over its quota of 1 Triggers and Sends a second, 3 at once \(HOOKWIRE_TRIGGER_RATE, HOOKWIRE_TRIGGER_BURST\); retry in \d+ ms$/,
    );
    // Send draws on the same bucket.
    let sendRefused: ConnectError | undefined;
    for (let i = 0; i < 30 && !sendRefused; i++) {
      // Within the rate, a Send to a port nothing listens on is answered with its failed delivery.
      sendRefused = await client.send({ url: nowhere, secret: "s", payload: { event: "rate.send" }, retries: 0 }, acme).then(
        () => undefined,
        (err: unknown) => ConnectError.from(err),
      );
    }
    expect(sendRefused?.rawMessage).toMatch(/^trigger_rate: tenant "acme" is over its quota/);
    // Another tenant's bucket is its own.
    for (let i = 0; i < 3; i++) expect((await client.trigger({ event: "rate.test", payload: num(i) }, globex)).messageId).toMatch(/^msg_/);
    // Waiting as told is enough.
    const retryIn = Number(/retry in (\d+) ms/.exec(sendRefused!.rawMessage)![1]);
    await sleep(retryIn + 50); // a sleep: the wait the refusal named is what is tested
    expect((await client.trigger({ event: "rate.test", payload: num(99) }, acme)).messageId).toMatch(/^msg_/);
  });
});
