// What an operator sees: the attempt log lines and GET /metrics, read from a real server's output and
// port while it delivers to a real receiver.
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryStatus, WebhookService } from "@hookwire/sdk/proto";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, connectClient, failure, grpcClient, KEYS, spawnServer, startServer, type RunningServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

let server: RunningServer;
let rcv: Receiver;
let client: ReturnType<typeof grpcClient>;
const acme = { headers: bearer(KEYS.acme) };
const json = (v: unknown) => fromJson(ValueSchema, v as never);

// Text that must never reach the log: a payload, a URL's path and query, a response body.
const PAYLOAD_MARK = "payload-text-7f3a9c";
const QUERY_TOKEN = "query-token-51d2e8";
const PATH_MARK = "path-part-0c4b";
const RESPONSE_MARK = "response-text-9e61";

type Line = Record<string, unknown> & { level: string; msg: string };

function lines(): Line[] {
  return server
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line);
}

async function settled(messageId: string, count: number, timeoutMs = 15_000) {
  return waitFor(
    async () => {
      const { deliveries } = await client.listDeliveries({ messageId }, acme);
      return deliveries.length >= count && deliveries.every((d) => d.status !== DeliveryStatus.PENDING) ? deliveries : undefined;
    },
    { timeoutMs, what: `deliveries of ${messageId} ended` },
  );
}

/** Until the server's output holds a line matching `pred` (outcomes are logged as they are made, stored a little later). */
async function logged(pred: (l: Line) => boolean, timeoutMs = 5000): Promise<Line[]> {
  return waitFor(
    () => {
      const found = lines().filter(pred);
      return found.length > 0 ? found : undefined;
    },
    { timeoutMs, intervalMs: 25, what: `a log line such that ${String(pred)}` },
  );
}

async function scrape(base = server.baseUrl): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** A sample's value in Prometheus text (0 when the series is absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return 0;
}

beforeAll(async () => {
  rcv = await startReceiver();
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_LOG_LEVEL: "debug", HOOKWIRE_POLL_MS: "100" } });
  client = grpcClient(server);
});
afterAll(async () => {
  await server?.stop();
  await rcv?.close();
});

describe("attempt log lines", () => {
  it("logs a success at debug, a failed attempt at warn with its retry, a final failure at error; no secret, payload, path or response", async () => {
    const ok = await client.register({ url: rcv.url(`/ok/${PATH_MARK}?token=${QUERY_TOKEN}`), events: ["log.story"] }, acme);
    const bad = await client.register({ url: rcv.url(`/bad/${PATH_MARK}?token=${QUERY_TOKEN}`), events: ["log.story"], retries: 1, retryDelayMs: 10 }, acme);
    const gone = await client.register({ url: rcv.url(`/gone/${PATH_MARK}`), events: ["log.story"], retries: 5 }, acme);
    rcv.route(`/ok/${PATH_MARK}`, { respond: () => ({ status: 200, body: RESPONSE_MARK }) });
    rcv.route(`/bad/${PATH_MARK}`, { respond: () => ({ status: 500, body: RESPONSE_MARK }) });
    rcv.route(`/gone/${PATH_MARK}`, { respond: () => ({ status: 410, body: RESPONSE_MARK }) });
    const res = await client.trigger({ event: "log.story", payload: json({ note: PAYLOAD_MARK }) }, acme);
    const deliveries = await settled(res.messageId, 3);
    const idOf = (subId: string) => deliveries.find((d) => d.subscriptionId === subId)!.id;
    const origin = new URL(rcv.url("/")).origin; // http://127.0.0.1:PORT, port written

    const mine = (l: Line) => l.messageId === res.messageId;
    const [delivered] = await logged((l) => mine(l) && l.msg === "delivered");
    expect(delivered).toMatchObject({
      level: "debug",
      deliveryId: idOf(ok.subscription!.id),
      messageId: res.messageId,
      subscriptionId: ok.subscription!.id,
      tenant: "acme",
      event: "log.story",
      endpoint: origin,
      attempt: 1,
      statusCode: 200,
    });
    expect(delivered!.durationMs).toEqual(expect.any(Number));

    const [retry] = await logged((l) => mine(l) && l.level === "warn");
    expect(retry).toMatchObject({
      msg: "delivery attempt failed; will retry",
      deliveryId: idOf(bad.subscription!.id),
      subscriptionId: bad.subscription!.id,
      endpoint: origin,
      attempt: 1,
      statusCode: 500,
      retryInMs: expect.any(Number),
    });
    expect(Date.parse(retry!.retryAt as string)).toBeGreaterThan(Date.parse(retry!.time as string) - 1);

    const failed = await logged((l) => mine(l) && l.level === "error");
    expect(failed).toHaveLength(2);
    expect(failed.find((l) => l.subscriptionId === bad.subscription!.id)).toMatchObject({
      msg: "delivery failed",
      deliveryId: idOf(bad.subscription!.id),
      attempt: 2,
      statusCode: 500,
      reason: "retries exhausted",
    });
    expect(failed.find((l) => l.subscriptionId === gone.subscription!.id)).toMatchObject({ attempt: 1, statusCode: 410, reason: "not retryable" });
    // One line per attempt: 1 success + 2 for the 500s + 1 for the 410.
    expect(lines().filter((l) => mine(l) && "attempt" in l)).toHaveLength(4);

    const out = server.output();
    for (const secret of [ok.secret, bad.secret, gone.secret, KEYS.acme, KEYS.globex]) expect(out).not.toContain(secret);
    for (const text of [PAYLOAD_MARK, QUERY_TOKEN, PATH_MARK, RESPONSE_MARK]) expect(out).not.toContain(text);
    expect(out).not.toMatch(/sha256=|v1,|webhook-signature/);
  });

  it("names the error when no answer came", async () => {
    const closed = await client.register({ url: "http://127.0.0.1:9/nothing-listens", events: ["log.refused"], retries: 0 }, acme);
    const res = await client.trigger({ event: "log.refused" }, acme);
    await settled(res.messageId, 1);
    const [line] = await logged((l) => l.messageId === res.messageId && l.level === "error");
    expect(line).toMatchObject({ subscriptionId: closed.subscription!.id, endpoint: "http://127.0.0.1:9", attempt: 1, reason: "retries exhausted" });
    expect(line!.error).toMatch(/ECONNREFUSED/);
    expect(line).not.toHaveProperty("statusCode");
  });
});

describe("GET /metrics", () => {
  it("needs no key and its counters move with Triggers, deliveries, retries and RPCs on every path", async () => {
    const ok = await client.register({ url: rcv.url("/m-ok"), events: ["metrics.moved"] }, acme);
    await client.register({ url: rcv.url("/m-flaky"), events: ["metrics.moved"], retries: 2, retryDelayMs: 10 }, acme);
    await client.register({ url: rcv.url("/m-gone"), events: ["metrics.moved"] }, acme);
    rcv.route("/m-flaky", { respond: (n) => ({ status: n === 1 ? 503 : 200 }) });
    rcv.route("/m-gone", { respond: () => ({ status: 410 }) });
    const before = await scrape();

    const res = await client.trigger({ event: "metrics.moved", idempotencyKey: "metrics-once" }, acme);
    const again = await connectClient(server).trigger({ event: "metrics.moved", idempotencyKey: "metrics-once" }, acme);
    expect(again.messageId).toBe(res.messageId);
    const refused = await failure(client.trigger({ event: "" }, acme));
    expect(refused.code).toBe(Code.InvalidArgument);
    const unauthenticated = await failure(client.getSubscription({ id: ok.subscription!.id }, { headers: bearer("not-a-key") }));
    expect(unauthenticated.code).toBe(Code.Unauthenticated);
    // Connect's own handlers (a deadline keeps the call off the plain path) and a server stream the caller ends.
    const withDeadline = createClient(WebhookService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    await withDeadline.getSubscription({ id: ok.subscription!.id }, { ...acme, timeoutMs: 5000 });
    const watching = new AbortController();
    const stream = client.watchDeliveries({}, { ...acme, signal: watching.signal });
    const first = stream[Symbol.asyncIterator]().next();
    await settled(res.messageId, 3);
    watching.abort();
    await first.catch(() => undefined);

    // Until the ended watch is counted (the server counts a stream once it is over).
    const after = await waitFor(
      async () => {
        const text = await scrape();
        return sample(text, "hookwire_rpc_requests_total", { method: "WatchDeliveries" }) > 0 && text;
      },
      { timeoutMs: 5000, what: "the ended watch counted" },
    );
    const moved = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);

    expect(moved("hookwire_triggers_total", { tenant: "acme", outcome: "accepted" })).toBe(1);
    expect(moved("hookwire_triggers_total", { tenant: "acme", outcome: "repeated" })).toBe(1);
    expect(moved("hookwire_triggers_total", { tenant: "acme", outcome: "refused" })).toBe(1);
    expect(moved("hookwire_deliveries_total", { tenant: "acme", outcome: "delivered" })).toBe(2);
    expect(moved("hookwire_deliveries_total", { tenant: "acme", outcome: "failed" })).toBe(1);
    expect(moved("hookwire_retries_scheduled_total")).toBe(1);
    expect(moved("hookwire_endpoints_disabled_total", { reason: "gone" })).toBe(1);
    expect(moved("hookwire_attempt_duration_seconds_count", { outcome: "2xx" })).toBe(2);
    expect(moved("hookwire_attempt_duration_seconds_count", { outcome: "5xx" })).toBe(1);
    expect(moved("hookwire_attempt_duration_seconds_count", { outcome: "4xx" })).toBe(1);
    const rpc = (method: string, code: string) => moved("hookwire_rpc_requests_total", { service: "hookwire.v1.WebhookService", method, code });
    expect(rpc("Trigger", "OK")).toBe(2); // plain gRPC and plain Connect
    expect(rpc("Trigger", "INVALID_ARGUMENT")).toBe(1);
    expect(rpc("GetSubscription", "UNAUTHENTICATED")).toBe(1); // refused at the door
    expect(rpc("GetSubscription", "OK")).toBe(1); // through Connect's handler
    expect(rpc("WatchDeliveries", "CANCELLED")).toBe(1);
    expect(moved("hookwire_rpc_duration_seconds_count", { method: "Trigger" })).toBe(3);
    expect(sample(after, "hookwire_deliveries_in_flight")).toBe(0);
    expect(after).toMatch(/^hookwire_deliveries_pending \d+$/m);
    expect(after).toMatch(/^process_cpu_seconds_total /m);
    // Bounded labels: no subscription, message or URL anywhere.
    expect(after).not.toContain(ok.subscription!.id);
    expect(after).not.toContain(res.messageId);
    expect(after).not.toContain("127.0.0.1");
  });

  it("counts what the engine holds in memory while attempts are in flight", async () => {
    rcv.route("/m-slow", { respond: () => ({ status: 200, delayMs: 1500 }) });
    await client.register({ url: rcv.url("/m-slow"), events: ["metrics.slow"] }, acme);
    const res = await client.trigger({ event: "metrics.slow" }, acme);
    await rcv.waitFor((all) => all.some((r) => r.path === "/m-slow"));
    expect(sample(await scrape(), "hookwire_deliveries_in_flight")).toBe(1);
    await settled(res.messageId, 1);
    expect(sample(await scrape(), "hookwire_deliveries_in_flight")).toBe(0);
  });

  it("answers only GET and HEAD", async () => {
    expect((await fetch(`${server.baseUrl}/metrics`, { method: "POST" })).status).toBe(405);
    const head = await fetch(`${server.baseUrl}/metrics`, { method: "HEAD" });
    expect(head.status).toBe(200);
  });

  it("is off with HOOKWIRE_METRICS=false", async () => {
    const off = await startServer({ env: { HOOKWIRE_METRICS: "false" } });
    try {
      expect((await fetch(`${off.baseUrl}/metrics`)).status).toBe(404);
    } finally {
      await off.stop();
    }
  });

  it("refuses a bad HOOKWIRE_METRICS with one line and exit code 2", async () => {
    const run = spawnServer({ env: { HOOKWIRE_METRICS: "sometimes" } });
    expect(await run.exited).toBe(2);
    expect(run.output().trim()).toBe('hookwire: configuration error: HOOKWIRE_METRICS: "sometimes" is not true or false');
  });
});
