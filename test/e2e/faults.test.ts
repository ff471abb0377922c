// Faults with real processes: the server killed with -9, the database stopped, an endpoint that hangs.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, expect, it } from "vitest";
import { DeliveryStatus } from "@hookwire/sdk/proto";
import { startFerretDB } from "../../server/dev/embedded-ferretdb.js";
import { freePort } from "../helpers/free-port.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, grpcClient, KEYS, startServer, uniqueDatabase, type RunningServer } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";

const acme = { headers: bearer(KEYS.acme) };
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
});

const FAST = { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_LEASE_MS: "2000", HOOKWIRE_POLL_MS: "100" };

function distinctIds(rcv: Receiver, path: string): Set<string> {
  return new Set(rcv.requests(path).map((r) => String(r.headers["webhook-id"])));
}

async function serve(database: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const s = await startServer({ database, env: { ...FAST, ...env } });
  cleanup.push(() => s.stop("SIGKILL"));
  return s;
}

it.each(["ferretdb", "mongodb"])("kill -9 with deliveries pending and in flight loses none: the restarted server delivers them (%s layout)", async (layout) => {
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const database = uniqueDatabase("kill");
  const first = await serve(database, { HOOKWIRE_MAX_IN_FLIGHT_PER_ENDPOINT: "2", HOOKWIRE_STORE: layout });
  const c1 = grpcClient(first);
  const { subscription, secret } = await c1.register({ url: rcv.url("/k"), events: ["crash.*"], retryDelayMs: 100 }, acme);
  // Slow answers keep deliveries in flight and queued behind the per-endpoint limit when the process dies.
  rcv.route("/k", { secret, respond: () => ({ status: 200, delayMs: 150 }) });
  const accepted: string[] = [];
  for (let i = 0; i < 40; i++) accepted.push((await c1.trigger({ event: "crash.test", payload: undefined }, acme)).messageId);
  await rcv.waitFor(() => rcv.requests("/k").length >= 3);
  first.child.kill("SIGKILL");
  await first.stop("SIGKILL");
  const before = distinctIds(rcv, "/k").size;
  expect(before).toBeLessThan(accepted.length); // the crash really left work undone

  const second = await serve(database, { HOOKWIRE_STORE: layout });
  expect(second.output()).toContain(`"layout":"${layout}"`);
  await rcv.waitFor(() => accepted.every((id) => distinctIds(rcv, "/k").has(id)), 30_000);
  expect(rcv.requests("/k").every((r) => r.verified)).toBe(true);
  // And the log agrees: every delivery ends delivered.
  const c2 = grpcClient(second);
  let listed = 0;
  await waitFor(
    async () => {
      const all = [];
      let token = "";
      do {
        const page = await c2.listDeliveries({ subscriptionId: subscription!.id, pageSize: 100, pageToken: token }, acme);
        all.push(...page.deliveries);
        token = page.nextPageToken;
      } while (token);
      listed = all.length;
      return all.length === accepted.length && all.every((d) => d.status === DeliveryStatus.DELIVERED);
    },
    { timeoutMs: 10_000, intervalMs: 100, what: () => `the log settled (${listed} deliveries listed)` },
  );
});

it("with FerretDB stopped, Trigger answers UNAVAILABLE; once it is back the engine resumes by itself", async () => {
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const dir = mkdtempSync(join(tmpdir(), "hookwire-outage-"));
  const port = await freePort();
  let db = await startFerretDB({ dir, port });
  cleanup.push(() => db.stop());
  const server = await serve(uniqueDatabase("outage"), { MONGODB_URI: db.uri });
  const client = grpcClient(server);
  const { secret } = await client.register({ url: rcv.url("/o"), events: ["outage.*"], retries: 10, retryDelayMs: 300 }, acme);
  // Every message's first attempt fails, so its retry is due while the database is down.
  const firstTry = new Set<string>();
  rcv.route("/o", {
    secret,
    respond: (_n, req) => {
      const id = String(req.headers["webhook-id"]);
      if (firstTry.has(id)) return { status: 200 };
      firstTry.add(id);
      return { status: 500 };
    },
  });
  const accepted: string[] = [];
  for (let i = 0; i < 5; i++) accepted.push((await client.trigger({ event: "outage.before" }, acme)).messageId);
  await rcv.waitFor(() => firstTry.size === 5);
  await db.stop();

  const err = await client.trigger({ event: "outage.during" }, acme).then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(err?.code).toBe(Code.Unavailable);
  expect(err?.rawMessage).toMatch(/database cannot be reached/);

  db = await startFerretDB({ dir, port });
  // UNAVAILABLE tells callers to try again (the SDK does, twice, 250 then
  // 500 ms later). The driver can still be reconnecting for the first call after the restart: the
  // same two tries are allowed here, and a failure shows what the server logged.
  let after: string | undefined;
  for (let attempt = 0; after === undefined; attempt++) {
    try {
      after = (await client.trigger({ event: "outage.after" }, acme)).messageId;
    } catch (e) {
      if (ConnectError.from(e).code !== Code.Unavailable || attempt >= 2) {
        const warnings = server.output().split("\n").filter((l) => /"level":"(warn|error)"/.test(l) && !l.includes("delivery attempt failed"));
        throw new Error(`Trigger after the restart: ${String(e)}\nthe server's warnings:\n${warnings.slice(-20).join("\n")}`);
      }
      await sleep(250 * 2 ** attempt); // a sleep: the SDK's own backoff between its two tries, which is all a caller gets
    }
  }
  accepted.push(after);
  // Delivered means a second request with the id, which the receiver answers 200.
  const answered200 = (id: string) => rcv.requests("/o").filter((r) => r.headers["webhook-id"] === id).length >= 2;
  await rcv.waitFor(() => accepted.every(answered200), 30_000);
  expect(rcv.requests("/o").every((r) => r.verified)).toBe(true);
});

it("an endpoint that hangs does not hold back a healthy one", async () => {
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const server = await serve(uniqueDatabase("iso"), { HOOKWIRE_MAX_IN_FLIGHT_PER_ENDPOINT: "4", HOOKWIRE_MAX_IN_FLIGHT: "16" });
  const client = grpcClient(server);
  const hang = await client.register({ url: rcv.url("/hang"), events: ["iso.test"], timeoutMs: 20_000, retries: 0 }, acme);
  const healthy = await client.register({ url: `http://localhost:${new URL(rcv.url("/")).port}/ok`, events: ["iso.test"] }, acme);
  rcv.route("/hang", { secret: hang.secret, respond: () => ({ status: 200, hang: true }) });
  rcv.route("/ok", { secret: healthy.secret });
  const started = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < 40; i++) ids.push((await client.trigger({ event: "iso.test" }, acme)).messageId);
  await rcv.waitFor(() => distinctIds(rcv, "/ok").size === 40, 10_000);
  const took = Date.now() - started;
  // The hanging endpoint holds its 4 connections for 20 s; the healthy one finished well before.
  expect(took).toBeLessThan(8_000);
  expect(rcv.requests("/hang").length).toBeLessThanOrEqual(4);
  expect(rcv.requests("/ok").every((r) => r.verified)).toBe(true);
});

it("two servers share a database: each sees the other's subscription changes at once", async () => {
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const database = uniqueDatabase("shared");
  const a = grpcClient(await serve(database));
  const b = grpcClient(await serve(database));
  const first = await a.register({ url: rcv.url("/s1"), events: ["shared.*"] }, acme);
  rcv.route("/s1", { secret: first.secret });
  const one = await b.trigger({ event: "shared.one" }, acme); // b caches the tenant's subscriptions here
  expect(one.deliveries).toBe(1);
  const second = await a.register({ url: rcv.url("/s2"), events: ["shared.*"] }, acme);
  rcv.route("/s2", { secret: second.secret });
  const two = await b.trigger({ event: "shared.two" }, acme);
  expect(two.deliveries).toBe(2);
  await a.updateSubscription({ id: first.subscription!.id, disabled: true }, acme);
  const three = await b.trigger({ event: "shared.three" }, acme);
  expect(three.deliveries).toBe(1);
  // At least once: a delivery may arrive twice, so compare the messages each endpoint got.
  await rcv.waitFor(() => distinctIds(rcv, "/s1").size === 2 && distinctIds(rcv, "/s2").size === 2);
  await sleep(300); // a sleep: no other message may arrive at either endpoint
  expect(distinctIds(rcv, "/s1")).toEqual(new Set([one.messageId, two.messageId]));
  expect(distinctIds(rcv, "/s2")).toEqual(new Set([two.messageId, three.messageId]));
  expect(rcv.requests().every((r) => r.verified)).toBe(true);
});

it("with HOOKWIRE_SUBSCRIPTION_CACHE_MS, another process's changes are still seen at once while the processes' views are current", async () => {
  // The window only serves Triggers while a process cannot confirm its view (its store reads failing).
  const database = uniqueDatabase("cached");
  const env = { HOOKWIRE_SUBSCRIPTION_CACHE_MS: "10000" };
  const a = grpcClient(await serve(database, env));
  const b = grpcClient(await serve(database, env));
  await a.register({ url: "http://127.0.0.1:9/c1", events: ["cached.*"] }, acme);
  expect((await b.trigger({ event: "cached.one" }, acme)).deliveries).toBe(1); // b caches the list here
  await a.register({ url: "http://127.0.0.1:9/c2", events: ["cached.*"] }, acme);
  expect((await a.trigger({ event: "cached.two" }, acme)).deliveries).toBe(2); // a's own change: at once
  expect((await b.trigger({ event: "cached.two" }, acme)).deliveries).toBe(2); // confirmed by b before a answered
  await b.register({ url: "http://127.0.0.1:9/c3", events: ["cached.*"] }, acme);
  expect((await b.trigger({ event: "cached.three" }, acme)).deliveries).toBe(3); // b's own change reloads it
  expect((await a.trigger({ event: "cached.three" }, acme)).deliveries).toBe(3);
});
