// The pending gauge is counted in the store: two server processes on one database both answer every pending
// delivery, including retries waiting in the store that no process holds in memory (hookwire_deliveries_held,
// each process's own part, is then 0 in both).
import { afterAll, beforeAll, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, connectClient, KEYS, startServer, uniqueDatabase, type RunningServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const acme = { headers: bearer(KEYS.acme) };
let a: RunningServer;
let b: RunningServer;
let rcv: Receiver;

beforeAll(async () => {
  rcv = await startReceiver();
  const database = uniqueDatabase("pending");
  const env = { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_POLL_MS: "100" };
  [a, b] = await Promise.all([startServer({ env, database }), startServer({ env, database })]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await rcv?.close();
});

async function gauge(server: RunningServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
}

it("counts pending deliveries from the store, the same in every process, retries waiting in the store included", async () => {
  const sub = await connectClient(a).register({ url: rcv.url("/later"), events: ["later.*"], retries: 1, retryDelayMs: 600_000 }, acme);
  rcv.route("/later", { secret: sub.secret, respond: () => ({ status: 503, body: "later" }) });
  // Three Triggers through one process: each fails its first attempt and waits ten minutes in the store.
  for (let i = 0; i < 3; i++) await connectClient(a).trigger({ event: "later.x", payload: { kind: { case: "numberValue", value: i } } }, acme);
  await rcv.waitFor(() => rcv.requests("/later").length === 3);
  for (const server of [a, b]) {
    // The count is read again at most every 5 s.
    await waitFor(async () => (await gauge(server, "hookwire_deliveries_pending")) === 3, { timeoutMs: 15_000, intervalMs: 250, what: "3 pending in the store" });
    expect(await gauge(server, "hookwire_deliveries_held")).toBe(0);
  }
  await connectClient(a).deleteSubscription({ id: sub.subscription!.id }, acme);
}, 60_000);
