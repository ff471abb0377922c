// Endpoints that heal or stop, with real parts: the server with a short disabling period, receivers on
// 127.0.0.1 that answer 500 (or 410, or 200), operators subscribed to "hookwire.*" whose deliveries are
// verified with their secrets by independent libraries (test/helpers/receiver.ts).
import { Code } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryStatus, type Subscription } from "@hookwire/sdk/proto";
import { startReceiver, type Received, type Receiver } from "../helpers/receiver.js";
import { bearer, failure, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";

let server: RunningServer;
let rcv: Receiver;
let client: ReturnType<typeof grpcClient>;
const acme = { headers: bearer(KEYS.acme) };
const FAILING_FOR_MS = 1500;
const MIN_FAILURES = 3;

/** The operators' endpoint (answers 200) and a broken operators' endpoint (answers 500, no retries). */
let ops: { id: string; secret: string };
let brokenOps: { id: string };
let catchAll: { id: string };

interface OpsEvent {
  event: string;
  payload: Record<string, unknown>;
  timestamp: string;
}
const opsEvent = (r: Received) => JSON.parse(r.body) as OpsEvent;

async function opsEventAbout(event: string, key: string, value: string, timeoutMs = 20_000): Promise<{ req: Received; body: OpsEvent }> {
  const matches = (r: Received) => {
    const b = opsEvent(r);
    return b.event === event && b.payload[key] === value;
  };
  const all = await rcv.waitFor((seen) => seen.some((r) => r.path === "/ops" && matches(r)), timeoutMs);
  const req = all.find((r) => r.path === "/ops" && matches(r))!;
  return { req, body: opsEvent(req) };
}

async function subscription(id: string): Promise<Subscription> {
  return (await client.getSubscription({ id }, acme)).subscription!;
}

/** Health is written about once a second: waits until it shows what the test expects. */
async function healthWhen(id: string, pred: (s: Subscription) => boolean, timeoutMs = 8000): Promise<Subscription> {
  let last: Subscription | undefined;
  return waitFor(
    async () => {
      last = await subscription(id);
      return pred(last) ? last : undefined;
    },
    { timeoutMs, intervalMs: 100, what: () => `health of ${id} as expected (last ${JSON.stringify(last?.health, (_, v) => (typeof v === "bigint" ? Number(v) : v))})` },
  );
}

beforeAll(async () => {
  rcv = await startReceiver();
  server = await startServer({
    env: {
      HOOKWIRE_ALLOW_PRIVATE_URLS: "true",
      HOOKWIRE_POLL_MS: "100",
      HOOKWIRE_DISABLE_AFTER_MS: String(FAILING_FOR_MS),
      HOOKWIRE_DISABLE_MIN_FAILURES: String(MIN_FAILURES),
    },
  });
  client = grpcClient(server);
  const o = await client.register({ url: rcv.url("/ops"), events: ["hookwire.*"], description: "operators" }, acme);
  ops = { id: o.subscription!.id, secret: o.secret };
  rcv.route("/ops", { secret: ops.secret });
  const b = await client.register({ url: rcv.url("/ops-broken"), events: ["hookwire.*"], retries: 0 }, acme);
  brokenOps = { id: b.subscription!.id };
  rcv.route("/ops-broken", { respond: () => ({ status: 500 }) });
  const c = await client.register({ url: rcv.url("/all"), events: ["*"] }, acme);
  catchAll = { id: c.subscription!.id };
});
afterAll(async () => {
  await server?.stop();
  await rcv?.close();
});

describe("endpoint health", () => {
  it("moves with each attempt: a success, a failure (failing since it), a success again (the streak cleared)", async () => {
    const r = await client.register({ url: rcv.url("/h"), events: ["health.check"], retries: 0 }, acme);
    const id = r.subscription!.id;
    rcv.route("/h", { secret: r.secret, respond: (n) => ({ status: n === 2 ? 500 : 200 }) });
    expect(r.subscription!.health).toMatchObject({ attemptsSucceeded: 0n, attemptsFailed: 0n, consecutiveFailures: 0n });

    await client.trigger({ event: "health.check" }, acme);
    const first = await healthWhen(id, (s) => s.health!.attemptsSucceeded === 1n);
    expect(first.health!.lastSuccessAt).toBeDefined();
    expect(first.health!.failingSince).toBeUndefined();

    await client.trigger({ event: "health.check" }, acme);
    const failed = await healthWhen(id, (s) => s.health!.attemptsFailed === 1n);
    expect(failed.health).toMatchObject({ attemptsSucceeded: 1n, consecutiveFailures: 1n, lastError: "HTTP 500" });
    expect(timestampDate(failed.health!.failingSince!).getTime()).toBe(timestampDate(failed.health!.lastFailureAt!).getTime());

    await client.trigger({ event: "health.check" }, acme);
    const healed = await healthWhen(id, (s) => s.health!.attemptsSucceeded === 2n);
    expect(healed.health).toMatchObject({ attemptsFailed: 1n, consecutiveFailures: 0n, lastError: "HTTP 500" });
    expect(healed.health!.failingSince).toBeUndefined();
    expect(timestampDate(healed.health!.lastSuccessAt!).getTime()).toBeGreaterThan(timestampDate(healed.health!.lastFailureAt!).getTime());
    expect(healed.disabled).toBe(false);

    // Every answer that carries a subscription carries its health.
    const listed = (await client.listSubscriptions({ pageSize: 100 }, acme)).subscriptions.find((s) => s.id === id)!;
    expect(listed.health).toMatchObject({ attemptsSucceeded: 2n, attemptsFailed: 1n });
  });
});

describe("automatic disabling", () => {
  it("disables a subscription whose attempts all failed past the period; the operators get hookwire.endpoint.disabled, signed", async () => {
    const r = await client.register({ url: rcv.url("/fail"), events: ["fail.always"], retries: 20, retryDelayMs: 100 }, acme);
    const id = r.subscription!.id;
    rcv.route("/fail", { respond: () => ({ status: 500 }) });
    const started = Date.now();
    await client.trigger({ event: "fail.always" }, acme);

    const { req, body } = await opsEventAbout("hookwire.endpoint.disabled", "subscription_id", id);
    expect(req.verified, req.verifyError).toBe(true);
    expect(req.headers["x-webhook-event"]).toBe("hookwire.endpoint.disabled");
    expect(body.payload).toMatchObject({ subscription_id: id, cause: "failing", last_error: "HTTP 500" });
    expect(body.payload.consecutive_failures as number).toBeGreaterThanOrEqual(MIN_FAILURES);
    expect(Date.parse(body.payload.disabled_at as string) - Date.parse(body.payload.failing_since as string)).toBeGreaterThanOrEqual(FAILING_FOR_MS);
    expect(Date.now() - started).toBeGreaterThanOrEqual(FAILING_FOR_MS);
    expect(req.body).not.toContain(r.secret);
    expect(req.body).not.toContain(rcv.url("/fail"));

    const sub = await subscription(id);
    expect(sub.disabled).toBe(true);
    expect(sub.disabledReason).toMatch(/^every attempt failed since \S+ \(\d+ failed attempts\); last error: HTTP 500$/);
    expect(sub.disabledReason).toBe(body.payload.reason);
    expect(sub.health!.consecutiveFailures).toBeGreaterThanOrEqual(BigInt(MIN_FAILURES));
    // Disabled: no new deliveries, and its pending retry ends without another request.
    expect((await client.trigger({ event: "fail.always" }, acme)).deliveries).toBe(1); // the catch-all's alone
    const sent = rcv.requests("/fail").length;
    await sleep(1500); // a sleep: its pending retry must end without another request in this time
    expect(rcv.requests("/fail").length).toBeLessThanOrEqual(sent + 1); // at most one attempt already in flight

    // Every delivery of the disabled subscription ends (a pending retry ends unattempted) before it is enabled
    // again: one still pending then (a slow machine) would be attempted after, and count in the new streak.
    await waitFor(async () => (await client.listDeliveries({ subscriptionId: id, status: DeliveryStatus.PENDING }, acme)).deliveries.length === 0, {
      what: "the disabled subscription's deliveries ended",
    });
    // Re-enabling clears the reason and starts the streak anew; the counts stay.
    const enabled = (await client.updateSubscription({ id, disabled: false }, acme)).subscription!;
    expect(enabled.disabled).toBe(false);
    expect(enabled.disabledReason).toBe("");
    expect(enabled.health).toMatchObject({ consecutiveFailures: 0n });
    expect(enabled.health!.failingSince).toBeUndefined();
    expect(enabled.health!.attemptsFailed).toBeGreaterThanOrEqual(BigInt(MIN_FAILURES));
    // A single new failure does not disable it again: the period starts over.
    rcv.route("/fail", { respond: () => ({ status: 500 }) });
    await client.updateSubscription({ id, retries: 0 }, acme);
    await client.trigger({ event: "fail.always" }, acme);
    const again = await healthWhen(id, (s) => s.health!.consecutiveFailures === 1n);
    expect(again.disabled).toBe(false);
  });

  it("410 Gone still disables at once, and is announced with its cause", async () => {
    const r = await client.register({ url: rcv.url("/gone"), events: ["gone.now"], retries: 5, retryDelayMs: 50 }, acme);
    const id = r.subscription!.id;
    rcv.route("/gone", { respond: () => ({ status: 410 }) });
    await client.trigger({ event: "gone.now" }, acme);
    const { req, body } = await opsEventAbout("hookwire.endpoint.disabled", "subscription_id", id);
    expect(req.verified, req.verifyError).toBe(true);
    expect(body.payload).toMatchObject({ cause: "gone", reason: "endpoint answered 410 Gone", last_error: "HTTP 410" });
    expect(await subscription(id)).toMatchObject({ disabled: true, disabledReason: "endpoint answered 410 Gone" });
    expect(rcv.requests("/gone")).toHaveLength(1);
  });
});

describe("operational events", () => {
  it("a delivery that exhausts its retries is announced as hookwire.delivery.exhausted, signed, without its payload", async () => {
    const r = await client.register({ url: rcv.url("/ex"), events: ["exhaust.me"], retries: 1, retryDelayMs: 50 }, acme);
    const id = r.subscription!.id;
    rcv.route("/ex", { respond: () => ({ status: 503, body: "down" }) });
    const t = await client.trigger({ event: "exhaust.me", payload: { kind: { case: "stringValue", value: "top-secret-payload" } } }, acme);
    const { req, body } = await opsEventAbout("hookwire.delivery.exhausted", "message_id", t.messageId);
    expect(req.verified, req.verifyError).toBe(true);
    expect(body.payload).toMatchObject({ subscription_id: id, event: "exhaust.me", attempts: 2, last_status_code: 503, last_error: "HTTP 503" });
    expect(body.payload.delivery_id).toMatch(/^dlv_/);
    expect(Date.parse(body.payload.last_attempt_at as string)).toBeGreaterThan(Date.parse(body.payload.first_attempt_at as string));
    expect(req.body).not.toContain("top-secret-payload");
    // Two failures in well under the period: not disabled.
    expect((await subscription(id)).disabled).toBe(false);
  });

  it("reach only subscriptions that name them, loop into nothing, and cannot be triggered or sent by callers", async () => {
    // By now the broken operators' endpoint has failed hookwire.* deliveries of its own.
    await rcv.waitFor((seen) => seen.some((r) => r.path === "/ops-broken"));
    await sleep(1500); // a sleep: time for a loop to show, were failed operational events announced in turn
    const atOps = rcv.requests("/ops").map(opsEvent);
    expect(atOps.length).toBeGreaterThanOrEqual(3);
    // A failed delivery of an operational event announces nothing.
    expect(atOps.filter((e) => e.event === "hookwire.delivery.exhausted" && String(e.payload.event).startsWith("hookwire."))).toEqual([]);
    // The catch-all got the ordinary events and none of Hookwire's.
    const atAll = rcv.requests("/all").map(opsEvent);
    expect(atAll.some((e) => e.event === "fail.always")).toBe(true);
    expect(atAll.filter((e) => e.event.startsWith("hookwire."))).toEqual([]);
    // A disabled operators' endpoint is not told about itself (it failed every event it got, past the period).
    await opsEventAbout("hookwire.endpoint.disabled", "subscription_id", brokenOps.id);
    const aboutItself = rcv.requests("/ops-broken").map(opsEvent).filter((e) => e.payload.subscription_id === brokenOps.id);
    expect(aboutItself).toEqual([]);
    expect(catchAll.id).toMatch(/^sub_/);

    const trig = await failure(client.trigger({ event: "hookwire.endpoint.disabled" }, acme));
    expect(trig.code).toBe(Code.InvalidArgument);
    expect(trig.rawMessage).toMatch(/^event: /);
    const sent = await failure(client.send({ url: rcv.url("/all"), secret: "s", payload: { event: "hookwire.x" } }, acme));
    expect(sent.code).toBe(Code.InvalidArgument);
    expect(sent.rawMessage).toMatch(/^payload\.event: /);
    // Subscribing to them is allowed.
    expect((await subscription(ops.id)).events).toEqual(["hookwire.*"]);
  });
});
