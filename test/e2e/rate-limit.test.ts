// A subscription's rate limit, end to end: the real server, a real receiver. The limited endpoint gets
// its rate while a backlog waits (none dropped), and another endpoint of the same tenant, triggered at the
// same time, is delivered as promptly as if the limited one were not there.
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterEach, expect, it } from "vitest";
import { DeliveryStatus } from "@hookwire/sdk/proto";
import { startReceiver } from "../helpers/receiver.js";
import { bearer, grpcClient, KEYS, startServer } from "../helpers/server.js";
import { sleep } from "../helpers/wait.js";

const acme = { headers: bearer(KEYS.acme) };
const numbered = (n: number) => fromJson(ValueSchema, { n });
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
});

const RATE = 10;
const WINDOW_MS = 10_000;
/** More than the window can deliver at the rate: a backlog stays waiting all along. */
const LIMITED_EVENTS = 130;
/** The other endpoint's events, one every FAST_EVERY_MS through the window. */
const FAST_EVERY_MS = 50;

it("a subscription limited to 10 a second receives 10 a second (±10 %) over 10 s, none dropped; another endpoint of the tenant is not slowed", { timeout: 40_000 }, async () => {
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  // Few slots per tenant: a limited line that held slots while it waited for its tokens would leave the
  // other endpoint none, and its deliveries would wait for the limited ones (the test then fails).
  const server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_MAX_IN_FLIGHT_PER_TENANT: "4" } });
  cleanup.push(() => server.stop("SIGKILL"));
  const client = grpcClient(server);
  const limited = await client.register({ url: rcv.url("/limited"), events: ["limited.*"], rateLimitPerSecond: RATE }, acme);
  expect(limited.subscription!.rateLimitPerSecond).toBe(RATE);
  await client.register({ url: rcv.url("/fast"), events: ["fast.*"] }, acme);

  // The backlog, stored at once (ten Triggers at a time).
  for (let i = 0; i < LIMITED_EVENTS; i += 10) {
    await Promise.all(Array.from({ length: 10 }, (_, j) => client.trigger({ event: "limited.tick", payload: numbered(i + j) }, acme)));
  }
  const first = await rcv.waitFor(() => rcv.requests("/limited").length >= 1);
  const t0 = first.find((r) => r.path === "/limited")!.at;

  // Meanwhile the other endpoint: one event every 50 ms, each timed from its Trigger to its arrival.
  const triggeredAt = new Map<number, number>();
  let n = 0;
  while (Date.now() < t0 + WINDOW_MS) {
    const next = t0 + n * FAST_EVERY_MS;
    if (next > Date.now()) await sleep(next - Date.now());
    triggeredAt.set(n, Date.now());
    await client.trigger({ event: "fast.tick", payload: numbered(n) }, acme);
    n++;
  }
  await rcv.waitFor(() => rcv.requests("/fast").length >= triggeredAt.size, 5000);
  const latencies = rcv
    .requests("/fast")
    .map((r) => r.at - triggeredAt.get((JSON.parse(r.body) as { payload: { n: number } }).payload.n)!)
    .sort((a, b) => a - b);

  // The limited endpoint: 10 a second over the 10 s from its first delivery, ±10 %.
  const inWindow = rcv.requests("/limited").filter((r) => r.at < t0 + WINDOW_MS).length;
  const figures = `limited: ${inWindow} in ${WINDOW_MS} ms; other: ${latencies.length} deliveries, p50 ${latencies[Math.floor(latencies.length / 2)]} ms, p95 ${latencies[Math.floor(latencies.length * 0.95)]} ms, max ${latencies.at(-1)} ms`;
  expect(inWindow, figures).toBeGreaterThanOrEqual(RATE * (WINDOW_MS / 1000) * 0.9);
  expect(inWindow, figures).toBeLessThanOrEqual(RATE * (WINDOW_MS / 1000) * 1.1);
  // No second of it held more than the rate and its burst (1 at this rate), wherever the second starts.
  const times = rcv.requests("/limited").map((r) => r.at);
  for (let i = 0; i + RATE + 1 < times.length; i++) expect(times[i + RATE + 1]! - times[i]!).toBeGreaterThanOrEqual(1000 - 50);

  // The other endpoint: every delivery arrived, promptly (a delivery made to wait behind the limited
  // line's backlog would wait seconds), at the pace it was triggered.
  expect(latencies.length).toBe(triggeredAt.size);
  expect(latencies.length).toBeGreaterThanOrEqual((WINDOW_MS / FAST_EVERY_MS) * 0.8);
  expect(latencies[Math.floor(latencies.length * 0.95)]!, figures).toBeLessThan(250);
  expect(latencies.at(-1)!, figures).toBeLessThan(1000);

  // The rest of the backlog waits its turn: none of the limited deliveries failed or was dropped. One answer
  // lists them all, even while some change place in the store (their first outcome being written).
  const all = [];
  let pageToken = "";
  do {
    const page = await client.listDeliveries({ subscriptionId: limited.subscription!.id, pageSize: 100, pageToken }, acme);
    all.push(...page.deliveries);
    pageToken = page.nextPageToken;
  } while (pageToken);
  expect(all.length).toBe(LIMITED_EVENTS);
  expect(all.filter((d) => d.status === DeliveryStatus.FAILED)).toEqual([]);
  expect(all.filter((d) => d.status === DeliveryStatus.PENDING).length).toBeGreaterThan(0);
});
