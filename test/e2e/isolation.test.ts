// Isolation: an endpoint that never answers holds only its own share of the server. The server runs
// with small shares (the mechanism is the same at the defaults, only the numbers of Triggers needed
// to fill them differ): each tenant may hold 200 deliveries in memory, each endpoint 100; what does
// not fit is parked in the store and taken when its endpoint has room.
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";

let server: RunningServer;
let client: ReturnType<typeof grpcClient>;
/** Answers nothing on /hang… paths until released; 200 elsewhere. Both tenants use it: one origin, shared. */
let shared: Receiver;
/** Another origin, always healthy. */
let healthy: Receiver;
const acme = { headers: bearer(KEYS.acme) };
const globex = { headers: bearer(KEYS.globex) };
const HELD_PER_TENANT = 200;
const HELD_PER_ENDPOINT = 100;

beforeAll(async () => {
  [shared, healthy] = await Promise.all([startReceiver(), startReceiver()]);
  server = await startServer({
    env: {
      HOOKWIRE_ALLOW_PRIVATE_URLS: "true",
      HOOKWIRE_POLL_MS: "100",
      HOOKWIRE_MAX_HELD_PER_TENANT: String(HELD_PER_TENANT),
      HOOKWIRE_MAX_HELD_PER_ENDPOINT: String(HELD_PER_ENDPOINT),
    },
  });
  client = grpcClient(server);
});
afterAll(async () => {
  await server?.stop();
  await Promise.all([shared?.close(), healthy?.close()]);
});

/** A subscription whose endpoint never answers within the test (5 minutes' timeout, 20 retries). */
async function stuck(path: string, events: string[], opts: typeof acme): Promise<void> {
  shared.route(path, { respond: () => ({ status: 200, hang: true }) });
  await client.register({ url: shared.url(path), events, timeoutMs: 300_000, retries: 20 }, opts);
}

/** `count` Triggers of `event`, 16 at a time; answers their message ids. */
async function triggerMany(event: string, count: number, opts: typeof acme): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < count) {
        next++;
        ids.push((await client.trigger({ event, payload: fromJson(ValueSchema, next) }, opts)).messageId);
      }
    }),
  );
  return ids;
}

/** How long after its Trigger was answered a delivery of `event` reached `rcv` at `path`. */
async function latencyOf(rcv: Receiver, path: string, event: string, opts: typeof acme): Promise<number> {
  const { messageId } = await client.trigger({ event, payload: fromJson(ValueSchema, "hello") }, opts);
  const answered = Date.now();
  const [got] = (await rcv.waitFor((all) => all.some((r) => r.path === path && r.headers["webhook-id"] === messageId), 10_000)).filter(
    (r) => r.path === path && r.headers["webhook-id"] === messageId,
  );
  return got!.at - answered;
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : NaN;
}

const hanging = (path: string) => shared.requests(path).length;

it("a tenant whose endpoints never answer fills only its own share: another tenant's delivery arrives within a second", async () => {
  // Three stuck endpoints of globex: 300 Triggers make 900 deliveries, over its tenant's share (200) and each endpoint's (100).
  for (const p of ["/hang-g1", "/hang-g2", "/hang-g3"]) await stuck(p, ["flood.*"], globex);
  await triggerMany("flood.created", 300, globex);
  await shared.waitFor(() => hanging("/hang-g1") + hanging("/hang-g2") + hanging("/hang-g3") >= 96); // 32 in flight each
  expect(await metric("hookwire_deliveries_parked_total")).toBeGreaterThan(0); // the share is full: the rest waits in the store

  healthy.route("/acme-ok", {});
  await client.register({ url: healthy.url("/acme-ok"), events: ["order.*"] }, acme);
  expect(await latencyOf(healthy, "/acme-ok", "order.created", acme)).toBeLessThan(1000);
});

it("one endpoint of a tenant that never answers leaves the tenant's other endpoints their deliveries", async () => {
  await stuck("/hang-a", ["stuck.*"], acme);
  await triggerMany("stuck.created", 300, acme); // 300 deliveries to one endpoint: over its share of 100
  await shared.waitFor(() => hanging("/hang-a") >= 32);
  healthy.route("/acme-other", {});
  await client.register({ url: healthy.url("/acme-other"), events: ["fine.*"] }, acme);
  expect(await latencyOf(healthy, "/acme-other", "fine.created", acme)).toBeLessThan(1000);
});

it("an origin shared by two tenants: one tenant's hanging requests there hold back neither the other's nor its own other endpoint there", async () => {
  // acme holds 32 hanging requests at the shared origin (the test above); both tenants deliver there too.
  // globex's share is full (the first test): its new endpoint gets room all the same, from its stuck ones.
  expect(hanging("/hang-a")).toBeGreaterThanOrEqual(32);
  shared.route("/globex-ok", {});
  shared.route("/acme-ok-same-origin", {});
  await client.register({ url: shared.url("/globex-ok"), events: ["ping.*"] }, globex);
  await client.register({ url: shared.url("/acme-ok-same-origin"), events: ["pong.*"] }, acme);
  expect(await latencyOf(shared, "/globex-ok", "ping.sent", globex)).toBeLessThan(1000);
  expect(await latencyOf(shared, "/acme-ok-same-origin", "pong.sent", acme)).toBeLessThan(1000);
});

it("once the stuck endpoints answer, every parked delivery is taken from the store and delivered: none lost", async () => {
  for (const p of ["/hang-g1", "/hang-g2", "/hang-g3", "/hang-a"]) shared.route(p, {});
  shared.releaseHanging(200);
  const distinct = (path: string) => new Set(shared.requests(path).map((r) => r.headers["webhook-id"])).size;
  await shared.waitFor(() => ["/hang-g1", "/hang-g2", "/hang-g3"].every((p) => distinct(p) === 300) && distinct("/hang-a") === 300, 30_000);
}, 40_000);
