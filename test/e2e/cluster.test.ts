// Several worker processes on one port (HOOKWIRE_WORKERS=2, server/cluster/): calls over separate connections
// are dealt to both; /metrics counts every worker's; a subscription's rate limit holds across them; a worker
// killed with -9 is replaced and nothing it accepted is lost; the stop reaches every worker, and workers do not
// outlive a primary killed with -9.
import { request as httpRequest } from "node:http";
import { afterEach, expect, it } from "vitest";
import { DeliveryStatus } from "@hookwire/sdk/proto";
import { startReceiver } from "../helpers/receiver.js";
import { grpcClient, KEYS, bearer, startServer, type RunningServer } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";

const acme = { headers: bearer(KEYS.acme) };
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
});

async function cluster(env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startServer({ env: { HOOKWIRE_WORKERS: "2", HOOKWIRE_ALLOW_PRIVATE_URLS: "true", ...env } });
  cleanup.push(() => server.stop("SIGKILL"));
  return server;
}

/** The worker pids the primary listed as it started listening. */
function workersOf(server: RunningServer): number[] {
  const m = /"msg":"hookwire listening".*?"workers":\[([\d,]+)\]/.exec(server.output());
  if (!m?.[1]) throw new Error(`no workers in the log:\n${server.output()}`);
  return m[1].split(",").map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A Connect JSON call on a connection of its own (no keep-alive agent), so that the cluster deals each call to a
 * worker as it deals connections. Answers the status and the parsed body.
 */
function callAlone(server: RunningServer, method: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${server.baseUrl}/hookwire.v1.WebhookService/${method}`,
      { method: "POST", agent: false, headers: { "content-type": "application/json", authorization: `Bearer ${KEYS.acme}` } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || "{}") as Record<string, unknown> }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    // A call the killed worker took and never answered fails here (its caller retries), not at the test's end.
    req.setTimeout(5000, () => req.destroy(new Error(`${method}: no answer within 5 s`)));
    req.end(JSON.stringify(body));
  });
}

/** A Trigger retried with its idempotency key until answered OK, as a caller does while a worker is replaced. */
async function triggerUntilAccepted(server: RunningServer, body: Record<string, unknown>, failures: string[] = []): Promise<string> {
  for (let tries = 0; ; tries++) {
    try {
      const r = await callAlone(server, "Trigger", body);
      if (r.status === 200) return String(r.body.messageId);
      failures.push(`${r.status} ${JSON.stringify(r.body)}`);
      if (tries > 50) throw new Error(`Trigger answered ${r.status}: ${JSON.stringify(r.body)}`);
    } catch (err) {
      failures.push(String(err));
      if (tries > 50) throw err;
    }
    await sleep(100); // the caller's backoff before it tries again
  }
}

it("calls over separate connections reach both workers, and /metrics counts what every worker did", async () => {
  const server = await cluster();
  const [a, b] = workersOf(server);
  expect(a).not.toBe(b);
  const n = 40;
  for (let i = 0; i < n; i++) expect((await callAlone(server, "Trigger", { event: "nobody.listens", payload: { i } })).status).toBe(200);
  // Each scrape reaches one worker; every one of them answers the whole count.
  for (let scrape = 0; scrape < 4; scrape++) {
    const text = await new Promise<string>((resolve, reject) => {
      httpRequest(`${server.baseUrl}/metrics`, { agent: false }, (res) => {
        let t = "";
        res.on("data", (c: Buffer) => (t += c.toString()));
        res.on("end", () => resolve(t));
      })
        .on("error", reject)
        .end();
    });
    const accepted = /hookwire_triggers_total\{tenant="acme",outcome="accepted"\} (\d+)/.exec(text);
    expect(Number(accepted?.[1])).toBe(n);
  }
}, 60_000);

it("a subscription limited to 10 a second gets 10 a second in all while both workers hold its deliveries", async () => {
  const server = await cluster();
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const client = grpcClient(server);
  const { subscription } = await client.register({ url: rcv.url("/limited"), events: ["limited.*"], rateLimitPerSecond: 10 }, acme);
  expect(subscription!.rateLimitPerSecond).toBe(10);
  // 120 Triggers, each on its own connection: both workers accept (and hold) about half of them.
  for (let i = 0; i < 120; i += 10) {
    await Promise.all(Array.from({ length: 10 }, (_, j) => callAlone(server, "Trigger", { event: "limited.tick", payload: { n: i + j } })));
  }
  const first = await rcv.waitFor((all) => all.length >= 1);
  const t0 = first[0]!.at;
  await sleep(8000 + 200); // the window the rate is measured over
  const inWindow = rcv.requests("/limited").filter((r) => r.at < t0 + 8000).length;
  // Each worker pacing on its own would have sent about 20 a second; split evenly, a worker without any would leave 5.
  expect(inWindow).toBeGreaterThanOrEqual(72);
  expect(inWindow).toBeLessThanOrEqual(88);
}, 60_000);

it("a WatchDeliveries stream on one worker sees the deliveries every worker made", async () => {
  const server = await cluster();
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const client = grpcClient(server);
  await client.register({ url: rcv.url("/w"), events: ["watch.*"] }, acme);
  const watch = new AbortController();
  cleanup.push(async () => watch.abort());
  const seen = new Map<string, DeliveryStatus>();
  let opened = false;
  const watching = (async () => {
    for await (const res of client.watchDeliveries({}, { ...acme, signal: watch.signal, onHeader: () => (opened = true) })) {
      seen.set(res.delivery!.messageId, res.delivery!.status);
    }
  })().catch(() => undefined);
  await waitFor(() => opened, { what: "the watch to open" });
  await sleep(200); // the other worker hears that one watches (one message through the primary) before the Triggers
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push(await triggerUntilAccepted(server, { event: "watch.tick", payload: { i } }));
  // The 20 Triggers went to both workers (one connection each); the watch, on one of them, sees them all delivered.
  await waitFor(() => ids.every((id) => seen.get(id) === DeliveryStatus.DELIVERED), {
    what: () => `every delivery seen delivered on the watch (${ids.filter((id) => seen.get(id) === DeliveryStatus.DELIVERED).length} of 20)`,
  });
  watch.abort();
  await watching;
}, 60_000);

it("a worker killed with -9 is replaced, and every Trigger accepted meanwhile is delivered", async () => {
  const server = await cluster({ HOOKWIRE_LEASE_MS: "60000" });
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const { secret } = await grpcClient(server).register({ url: rcv.url("/r"), events: ["kill.*"], retryDelayMs: 100 }, acme);
  // Slow answers keep attempts in flight (held by their worker) when the kill comes.
  rcv.route("/r", { secret, respond: () => ({ status: 200, delayMs: 300 }) });
  const [victim] = workersOf(server);
  const accepted: string[] = [];
  const failures: string[] = [];
  const sending = (async () => {
    for (let i = 0; i < 60; i++) accepted.push(await triggerUntilAccepted(server, { event: "kill.tick", payload: { i }, idempotencyKey: `kill-${i}` }, failures));
  })();
  await waitFor(() => accepted.length >= 20, { what: "20 Triggers accepted before the kill" });
  process.kill(victim!, "SIGKILL");
  await sending;
  await waitFor(() => /"msg":"worker exited; starting another"/.test(server.output()), { what: "the primary noticing the dead worker" });
  // The surviving worker (told by the primary) or the replacement releases what the dead one held.
  await waitFor(() => server.output().split("\n").some((l) => l.includes('"msg":"released the holds of dead processes"') && l.includes(`:${victim}:`)), {
    what: "the dead worker's holds released",
  });
  await waitFor(() => /"msg":"worker ready"/.test(server.output()), { timeoutMs: 30_000, what: "a replacement worker" });
  // Every accepted message reaches the receiver, well within the dead worker's 60 s holds (the replacement
  // releases them as it starts); duplicates are allowed (at least once), losses are not.
  // webhook-id is the message's id.
  const delivered = () => new Set(rcv.requests("/r").map((r) => String(r.headers["webhook-id"])));
  const ids = new Set(accepted);
  expect(ids.size).toBe(60);
  await waitFor(() => [...ids].every((id) => delivered().has(id)), {
    timeoutMs: 30_000,
    what: () => `every accepted message delivered (${[...ids].filter((id) => delivered().has(id)).length} of ${ids.size}; the callers' failed tries: ${failures.join("; ")})`,
  });
  expect(rcv.requests("/r").every((r) => r.verified)).toBe(true);
}, 90_000);

it("SIGTERM stops every worker gracefully and the primary exits 0; a primary killed with -9 leaves no worker behind", async () => {
  const graceful = await cluster();
  const workers = workersOf(graceful);
  // At once: the stop must be graceful from the moment the server says it listens.
  const code = await graceful.stop("SIGTERM");
  expect(code, `ended by ${graceful.child.signalCode}: ${graceful.output()}`).toBe(0);
  for (const pid of workers) expect(alive(pid)).toBe(false);
  expect(graceful.output().match(/"msg":"worker stopping"/g)).toHaveLength(2);

  const killed = await cluster();
  const orphans = workersOf(killed);
  await killed.stop("SIGKILL");
  await waitFor(() => orphans.every((pid) => !alive(pid)), { timeoutMs: 15_000, what: "the workers of a killed primary to exit" });
}, 60_000);
