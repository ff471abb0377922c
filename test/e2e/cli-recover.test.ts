// `hookwire recover` and the tenant-wide `hookwire deliveries list`, through the bin against a real server.
// Both stand on server parts of issue 12 that land with the recovery work (RecoverDeliveries, and
// ListDeliveries with neither id): until that is merged the server answers UNIMPLEMENTED and
// INVALID_ARGUMENT, and these tests fail.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createWebhookManager, type DeliveryStatus, type HookwireManager } from "@hookwire/sdk";
import { runCli, runCliJson, runCliOnTerminal, type CliOptions } from "../helpers/cli.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

vi.setConfig({ testTimeout: 90_000 });

let server: RunningServer;
let rcv: Receiver;
let sdk: HookwireManager;
let as: CliOptions;

beforeAll(async () => {
  rcv = await startReceiver();
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_POLL_MS: "100" } });
  sdk = createWebhookManager({ baseUrl: server.baseUrl, apiKey: KEYS.acme });
  as = { env: { HOOKWIRE_API_KEY: KEYS.acme, HOOKWIRE_URL: server.baseUrl } };
});
afterAll(async () => {
  await server.stop();
  await rcv.close();
});

/** A subscription whose endpoint refuses every attempt, and `n` of its deliveries, each failed. */
async function failedDeliveries(path: string, event: string, n: number) {
  rcv.route(path, { respond: () => ({ status: 503 }) });
  const { subscription } = await sdk.register({ url: rcv.url(path), events: [event], retries: 0 });
  const messages: string[] = [];
  for (let i = 0; i < n; i++) messages.push((await sdk.trigger(event, { i })).messageId);
  await waitForStatus(subscription.id, "failed", n);
  return { subscription, messages };
}

async function waitForStatus(subscriptionId: string, status: DeliveryStatus, n: number) {
  let seen = 0;
  return waitFor(
    async () => {
      const page = await sdk.listDeliveries({ subscriptionId, status, pageSize: 100 });
      seen = page.deliveries.length;
      return page.deliveries.length >= n ? page.deliveries : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: () => `${subscriptionId}: ${n} ${status} (${seen} so far)` },
  );
}

describe("recover", () => {
  it("redelivers every failed delivery since the time, over several bounded calls, once", async () => {
    const { subscription } = await failedDeliveries("/recover", "rec.over", 5);
    rcv.route("/recover", { respond: () => ({ status: 200 }) });

    const json = await runCliJson(["recover", "--subscription", subscription.id, "--since", "1h", "--batch", "2"], as);
    expect(json).toMatchObject({ subscriptionId: subscription.id, recovered: 5 });
    expect(json.calls).toBeGreaterThanOrEqual(3);
    expect(json.deliveries).toHaveLength(5);
    for (const d of json.deliveries) expect(d.redeliveryOf).not.toBe("");
    await waitForStatus(subscription.id, "delivered", 5);
    expect(rcv.requests("/recover").filter((r) => r.headers["webhook-id"]).length).toBeGreaterThanOrEqual(10);

    // The same range again: nothing left to recover.
    const again = await runCli(["recover", "--subscription", subscription.id, "--since", new Date(Date.now() - 3_600_000).toISOString()], as);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^recovered 0 failed deliveries of ${subscription.id} since \\S+Z$`, "m"));
    // Piped stderr: no progress line.
    expect(again.stderr).toBe("");
  });

  it("a time in the future is refused by the server; a bad --since is a usage error; an unknown subscription exits 4", async () => {
    const { subscription } = await failedDeliveries("/recover-later", "rec.later", 1);
    const future = await runCli(["recover", "--subscription", subscription.id, "--since", new Date(Date.now() + 3_600_000).toISOString()], as);
    expect(future.code).toBe(3);
    expect(future.stderr).toMatch(/^hookwire: invalid argument: since: is in the future/);
    const bad = await runCli(["recover", "--subscription", subscription.id, "--since", "yesterday"], as);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^hookwire: --since: "yesterday" is not a date-time/);
    const missing = await runCli(["recover", "--subscription", "sub_nope", "--since", "1h"], as);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/^hookwire: not found: /);
    const noSince = await runCli(["recover", "--subscription", subscription.id], as);
    expect(noSince.code).toBe(2);
  });
});

describe("recover on a terminal", () => {
  it("shows a progress line while more calls follow, then clears it for the result", async () => {
    const { subscription } = await failedDeliveries("/recover-tty", "rec.tty", 3);
    rcv.route("/recover-tty", { respond: () => ({ status: 200 }) });
    const r = await runCliOnTerminal(["recover", "--subscription", subscription.id, "--since", "1h", "--batch", "1"], as);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/recovering: 1 redelivered in 1 call, /);
    expect(r.stdout).toContain("\x1b[2K");
    expect(r.stdout).toMatch(new RegExp(`recovered 3 failed deliveries of ${subscription.id} since`));
  });
});

describe("deliveries list across the tenant", () => {
  it("with neither --subscription nor --message lists the tenant's deliveries; --failed across subscriptions", async () => {
    const a = await failedDeliveries("/tenant-a", "ten.a", 1);
    const b = await failedDeliveries("/tenant-b", "ten.b", 1);
    const failed = await runCliJson(["deliveries", "list", "--failed", "--all"], as);
    const subs = new Set(failed.deliveries.map((d: { subscriptionId: string }) => d.subscriptionId));
    expect(subs.has(a.subscription.id) && subs.has(b.subscription.id)).toBe(true);
    expect(failed.deliveries.every((d: { status: string }) => d.status === "failed")).toBe(true);
    const human = await runCli(["deliveries", "list", "--failed", "--all"], as);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/\sten\.a\s/);
    expect(human.stdout).toMatch(/\sten\.b\s/);
    // Another tenant sees none of them.
    const other = await runCliJson(["deliveries", "list", "--api-key", KEYS.globex], as);
    expect(other.deliveries).toEqual([]);
  });
});
