// The start-up warm-up from outside (server/warmup.ts): a server started with it says in its log that it ran and
// how long it took, before it listens, and nothing of it is visible afterwards: no count in /metrics, no row in the
// store, no other log line, no subscription or message a tenant can list. A first Trigger is then counted and
// delivered as usual.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, grpcClient, KEYS, startServer, uniqueDatabase, type RunningServer } from "../helpers/server.js";
import { fileMongoClient } from "../helpers/mongo-client.js";

const BUDGET_MS = 1000;
// Not named for the warm-up: no line but its own may mention it.
const database = uniqueDatabase("probe");
const mongo = fileMongoClient();
let server: RunningServer;
let rcv: Receiver;
const acme = { headers: bearer(KEYS.acme) };

beforeAll(async () => {
  rcv = await startReceiver();
  server = await startServer({ database, env: { HOOKWIRE_WARMUP_MS: String(BUDGET_MS), HOOKWIRE_ALLOW_PRIVATE_URLS: "true" } });
});
afterAll(async () => {
  await server?.stop();
  await rcv?.close();
});

const parse = (output: string) =>
  output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const lines = () => parse(server.output());

/** The value of each sample of these metric families in GET /metrics, by its line's name and labels. */
async function samples(families: RegExp): Promise<Map<string, number>> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const out = new Map<string, number>();
  for (const l of text.split("\n")) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(l);
    if (m && families.test(m[1]!)) out.set(`${m[1]}${m[2] ?? ""}`, Number(m[3]));
  }
  return out;
}

const COUNTED = /^hookwire_(triggers_total|deliveries_total|rpc_requests_total|rpc_duration_seconds_count|attempt_duration_seconds_count|retries_scheduled_total|deliveries_parked_total)$/;

it("runs before the port opens, within its budget, and says so in one info line", () => {
  const all = lines();
  const done = all.findIndex((l) => l.msg === "warm-up done");
  const listening = all.findIndex((l) => l.msg === "hookwire listening");
  expect(done).toBeGreaterThanOrEqual(0);
  expect(done).toBeLessThan(listening);
  const line = all[done]!;
  expect(line).toMatchObject({ level: "info", budgetMs: BUDGET_MS });
  expect(line.triggers).toBeGreaterThan(0);
  expect(line.delivered).toBeGreaterThan(0);
  expect(line.delivered).toBeLessThanOrEqual(line.triggers as number);
  // Its budget, and closing its rig after it.
  expect(line.ms).toBeLessThan(BUDGET_MS + 1500);
});

it("leaves nothing visible: no count in /metrics, no stored row, no other log line, nothing a tenant lists", async () => {
  const counted = await samples(COUNTED);
  expect(counted.size).toBeGreaterThan(0);
  expect([...counted].filter(([, v]) => v !== 0)).toEqual([]);
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  expect(text).not.toContain('tenant="warmup"');
  // The database holds what opening it wrote (its layout, indexes), never a subscription, message or delivery.
  const db = mongo.db(database);
  for (const name of ["subscriptions", "messages", "delivery_queue", "delivery_log", "delivery_lots", "delivery_batches", "subscription_health", "send_secrets"]) {
    expect(await db.collection(name).countDocuments({}), name).toBe(0);
  }
  // The same lines as a server without it writes, and none naming the rig's tenant, event or receiver.
  const cold = await startServer({ env: { HOOKWIRE_WARMUP_MS: "0" } });
  const msgs = (all: Array<Record<string, unknown>>) => all.map((l) => l.msg).sort();
  expect(msgs(lines().filter((l) => l.msg !== "warm-up done"))).toEqual(msgs(parse(cold.output())));
  await cold.stop();
  expect(lines().filter((l) => l.msg !== "warm-up done" && /"warmup|warmup\.|\/warmup|warm-up/.test(JSON.stringify(l)))).toEqual([]);
  const client = grpcClient(server);
  expect((await client.listSubscriptions({}, acme)).subscriptions).toEqual([]);
  expect((await client.listDeliveries({}, acme)).deliveries).toEqual([]);
});

it("then counts and delivers the first real Trigger as usual", async () => {
  const client = grpcClient(server);
  await client.register({ url: rcv.url("/warm-first"), events: ["first.*"] }, acme);
  const res = await client.trigger({ event: "first.created" }, acme);
  expect(res.deliveries).toBe(1);
  await rcv.waitFor((all) => all.length >= 1);
  expect(rcv.requests("/warm-first")).toHaveLength(1);
  const counted = await samples(/^hookwire_triggers_total$/);
  expect(counted.get('hookwire_triggers_total{tenant="acme",outcome="accepted"}')).toBe(1);
});
