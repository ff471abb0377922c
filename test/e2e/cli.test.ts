// The `hookwire` CLI run as a user runs it (the package's bin, a child process) against a real server
// and receiver: every command in its human and --json forms, exit codes, and the one-line errors.
// Recovery and the tenant-wide delivery list are in cli-recover.test.ts; sign and verify in
// cli-signatures.test.ts.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createWebhookManager, type HookwireManager } from "@hookwire/sdk";
import { checkStandard } from "@hookwire/sdk/node";
import { runCli, runCliJson, runCliOnTerminal, spawnCli, type CliOptions } from "../helpers/cli.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";

// Each CLI run is a Node process start (about half a second idle, more on a busy machine).
vi.setConfig({ testTimeout: 60_000 });

let server: RunningServer;
let rcv: Receiver;
let as: CliOptions;
// For the test's own waiting and setup only (faster than a CLI process per poll); what is under test runs through the CLI.
let sdk: HookwireManager;

beforeAll(async () => {
  rcv = await startReceiver();
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_RETRY_DELAY_MS: "50", HOOKWIRE_POLL_MS: "100" } });
  // Key and address from the environment, as a script would set them; some tests use the flags instead.
  as = { env: { HOOKWIRE_API_KEY: KEYS.acme, HOOKWIRE_URL: server.baseUrl } };
  sdk = createWebhookManager({ baseUrl: server.baseUrl, apiKey: KEYS.acme });
});
afterAll(async () => {
  await server.stop();
  await rcv.close();
});

/** A new subscription through the CLI; answers its id and secret. */
async function create(path: string, ...extra: string[]): Promise<{ id: string; secret: string }> {
  const res = await runCliJson(["subscriptions", "create", "--endpoint", rcv.url(path), ...extra], as);
  return { id: res.subscription.id, secret: res.secret };
}

/** Waits for a message's only delivery to end as `want`; answers it as the SDK gives it. */
async function settled(messageId: string, want: "delivered" | "failed") {
  let last: unknown;
  return waitFor(
    async () => {
      const page = await sdk.listDeliveries({ messageId });
      last = page;
      return page.deliveries[0]?.status === want ? page.deliveries[0] : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200, what: () => `delivery of ${messageId} ${want} (last ${JSON.stringify(last)})` },
  );
}

function expectOneErrorLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^hookwire: /);
  expect(lines[0]).toMatch(pattern);
}

describe("subscriptions", () => {
  it("create prints the subscription and its secret; --json gives the same as one document", async () => {
    const human = await runCli(["subscriptions", "create", "--endpoint", rcv.url("/s1"), "--event", "order.*", "--event", "invoice.paid", "--description", "shop"], as);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^id\s+\S+$/m);
    expect(human.stdout).toMatch(/^events\s+order\.\*, invoice\.paid$/m);
    expect(human.stdout).toMatch(/^secret\s+whsec_[A-Za-z0-9+/=]+$/m);

    const json = await runCliJson(["subscriptions", "create", "--endpoint", rcv.url("/s2"), "--event", "s2.only", "--retries", "2", "--timeout-ms", "1500"], as);
    expect(json.subscription).toMatchObject({ url: rcv.url("/s2"), events: ["s2.only"], retries: 2, timeoutMs: 1500, disabled: false });
    expect(json.secret).toMatch(/^whsec_/);
    expect(Date.parse(json.subscription.createdAt)).not.toBeNaN();
  });

  it("list shows them with their health, get shows one, in both forms", async () => {
    const { id } = await create("/list-me", "--event", "list.me");
    const human = await runCli(["subscriptions", "list", "--all"], as);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout.split("\n")[0]).toMatch(/^ID\s+OWNER\s+EVENTS\s+URL\s+HEALTH$/);
    expect(human.stdout).toMatch(new RegExp(`^${id}\\s+-\\s+list\\.me\\s+${rcv.url("/list-me")}\\s+no attempts yet$`, "m"));

    const json = await runCliJson(["subscriptions", "list", "--all"], as);
    expect(json.subscriptions.map((s: { id: string }) => s.id)).toContain(id);
    expect(json.nextPageToken).toBe("");

    const one = await runCliJson(["subscriptions", "get", id], as);
    expect(one).toMatchObject({ id, events: ["list.me"], health: { attemptsSucceeded: 0, attemptsFailed: 0 } });
    const shown = await runCli(["subscriptions", "get", id], as);
    expect(shown.stdout).toMatch(new RegExp(`^url\\s+${rcv.url("/list-me")}$`, "m"));
  });

  it("list pages: --page-size 1 prints a next token on stderr, and --page-token follows it", async () => {
    await create("/page-a", "--event", "page.a");
    await create("/page-b", "--event", "page.b");
    const first = await runCliJson(["subscriptions", "list", "--page-size", "1"], as);
    expect(first.subscriptions).toHaveLength(1);
    expect(first.nextPageToken).not.toBe("");
    const second = await runCliJson(["subscriptions", "list", "--page-size", "1", "--page-token", first.nextPageToken], as);
    expect(second.subscriptions[0].id).not.toBe(first.subscriptions[0].id);
    const human = await runCli(["subscriptions", "list", "--page-size", "1"], as);
    expect(human.stderr).toMatch(/^more: add --page-token \S+ \(or --all\)$/m);
  });

  it("update changes only what is given; --disable and --enable", async () => {
    const { id } = await create("/upd", "--event", "a.b", "--description", "before");
    const disabled = await runCliJson(["subscriptions", "update", id, "--description", "after", "--disable"], as);
    expect(disabled).toMatchObject({ id, description: "after", events: ["a.b"], disabled: true });
    const human = await runCli(["subscriptions", "update", id, "--enable", "--event", "c.d"], as);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^status\s+enabled$/m);
    expect(human.stdout).toMatch(/^events\s+c\.d$/m);
    const both = await runCli(["subscriptions", "update", id, "--enable", "--disable"], as);
    expect(both.code).toBe(2);
    expectOneErrorLine(both.stderr, /--disable and --enable/);
  });

  it("--header and --rate-limit set an endpoint's settings; get shows the header values, create and update mask them; update replaces or clears", async () => {
    const created = await runCli(["subscriptions", "create", "--endpoint", rcv.url("/hdr"), "--event", "hdr.*", "--header", "Authorization=Bearer a=b", "--header", "X-Shop=42", "--rate-limit", "20"], as);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^rate limit\s+20 attempts a second \(per Hookwire process\)$/m);
    expect(created.stdout).toMatch(/^headers\s+authorization: \*{8}\n\s+x-shop: \*{8}$/m);
    const id = /^id\s+(\S+)$/m.exec(created.stdout)![1]!;
    const shown = await runCli(["subscriptions", "get", id], as);
    expect(shown.stdout).toMatch(/^headers\s+authorization: Bearer a=b\n\s+x-shop: 42$/m);
    const replaced = await runCliJson(["subscriptions", "update", id, "--header", "x-only=1", "--rate-limit", "0"], as);
    expect(replaced).toMatchObject({ headers: { "x-only": "********" }, rateLimitPerSecond: 0 });
    const cleared = await runCli(["subscriptions", "update", id, "--clear-headers"], as);
    expect(cleared.stdout).toMatch(/^headers\s+-$/m);
    expect(cleared.stdout).toMatch(/^rate limit\s+none$/m);
    const malformed = await runCli(["subscriptions", "update", id, "--header", "no-equals-sign"], as);
    expect(malformed.code).toBe(2);
    expectOneErrorLine(malformed.stderr, /--header: "no-equals-sign" is not name=value/);
    const refused = await runCli(["subscriptions", "update", id, "--header", "Webhook-Id=forged"], as);
    expect(refused.code).toBe(3);
    expectOneErrorLine(refused.stderr, /^hookwire: invalid argument: headers\["Webhook-Id"\]: is set by Hookwire/);
  });

  it("rotate-secret prints a new secret, and deliveries are signed with it", async () => {
    const { id, secret } = await create("/rot", "--event", "rot.ated");
    const rotated = await runCliJson(["subscriptions", "rotate-secret", id, "--previous-ttl", "0"], as);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);
    rcv.route("/rot", { secret: rotated.secret });
    const human = await runCli(["subscriptions", "rotate-secret", id], as);
    expect(human.stdout).toMatch(/^secret\s+whsec_/m);
    const newest = /^secret\s+(\S+)$/m.exec(human.stdout)![1]!;
    rcv.route("/rot", { secret: newest });
    await runCliJson(["trigger", "rot.ated", "--data", "{}"], as);
    const [got] = await rcv.waitFor((all) => all.some((r) => r.path === "/rot"));
    expect(rcv.requests("/rot")[0]!.verified, rcv.requests("/rot")[0]!.verifyError).toBe(true);
    expect(got).toBeDefined();
  });

  it("delete removes it; then get exits 4 with one line naming it", async () => {
    const { id } = await create("/del", "--event", "del.me");
    const human = await runCli(["subscriptions", "delete", id], as);
    expect(human).toMatchObject({ code: 0, stdout: `deleted ${id}\n` });
    const gone = await runCli(["subscriptions", "get", id], as);
    expect(gone.code).toBe(4);
    expectOneErrorLine(gone.stderr, /^hookwire: not found: .*subscription/);
    const json = await runCli(["subscriptions", "delete", id, "--json"], as);
    expect(json.code).toBe(4);
  });

  it("a field Hookwire refuses exits 3 with its line naming the field", async () => {
    const bad = await runCli(["subscriptions", "create", "--endpoint", "ftp://127.0.0.1/x"], as);
    expect(bad.code).toBe(3);
    expectOneErrorLine(bad.stderr, /^hookwire: invalid argument: url: /);
    const events = await runCli(["subscriptions", "create", "--endpoint", rcv.url("/x"), "--event", "bad event!"], as);
    expect(events.code).toBe(3);
    expectOneErrorLine(events.stderr, /invalid argument: events/);
  });
});

describe("trigger, messages get, deliveries list, redeliver", () => {
  it("trigger takes the payload from --data, from @file and from stdin; messages get shows it", { timeout: 60_000 }, async () => {
    const secret = (await create("/trig", "--event", "shop.order.created")).secret;
    rcv.route("/trig", { secret });
    const inline = await runCli(["trigger", "shop.order.created", "--data", '{"id":1}'], as);
    expect(inline.code, inline.stderr).toBe(0);
    const inlineId = /^message (\S+): 1 subscription matched$/.exec(inline.stdout.trim())![1]!;

    const dir = mkdtempSync(join(tmpdir(), "hookwire-cli-data-"));
    writeFileSync(join(dir, "order.json"), JSON.stringify({ id: 2, items: ["a", "ü"] }));
    const fromFile = await runCliJson(["trigger", "shop.order.created", "--data", `@${join(dir, "order.json")}`], as);
    expect(fromFile.deliveries).toBe(1);
    const fromStdin = await runCliJson(["trigger", "shop.order.created", "--idempotency-key", "k-stdin"], { ...as, input: '{"id":3}\n' });

    expect((await runCliJson(["messages", "get", inlineId], as)).payload).toEqual({ id: 1 });
    expect((await runCliJson(["messages", "get", fromFile.messageId], as)).payload).toEqual({ id: 2, items: ["a", "ü"] });
    const m3 = await runCliJson(["messages", "get", fromStdin.messageId], as);
    expect(m3).toMatchObject({ event: "shop.order.created", payload: { id: 3 }, idempotencyKey: "k-stdin", deliveries: 1 });
    const human = await runCli(["messages", "get", fromStdin.messageId], as);
    expect(human.stdout).toMatch(/^payload\s+\{"id":3\}$/m);
    expect(human.stdout).toMatch(/^event\s+shop\.order\.created$/m);

    // The same key again answers the first message.
    const repeat = await runCliJson(["trigger", "shop.order.created", "--idempotency-key", "k-stdin", "--data", '{"id":99}'], as);
    expect(repeat.messageId).toBe(fromStdin.messageId);

    await rcv.waitFor(() => rcv.requests("/trig").length >= 3);
    expect(rcv.requests("/trig").every((r) => r.verified)).toBe(true);
  });

  it("owners: create --owner, list --owner, trigger --owner reaches only that owner's endpoint, --all-owners every owner's", { timeout: 60_000 }, async () => {
    const alice = await create("/cli-alice", "--owner", "user-alice", "--event", "cli.owned");
    const bob = await create("/cli-bob", "--owner", "user-bob", "--event", "cli.owned");
    rcv.route("/cli-alice", { secret: alice.secret });
    rcv.route("/cli-bob", { secret: bob.secret });
    const listed = await runCli(["subscriptions", "list", "--owner", "user-alice"], as);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+OWNER\s+EVENTS/m);
    expect(listed.stdout).toContain(alice.id);
    expect(listed.stdout).not.toContain(bob.id);
    const one = await runCli(["trigger", "cli.owned", "--owner", "user-alice", "--data", "{}"], as);
    expect(one.stdout.trim()).toMatch(/^message \S+: 1 subscription matched$/);
    const all = await runCliJson(["trigger", "cli.owned", "--all-owners", "--data", "{}"], as);
    expect(all.deliveries).toBe(2);
    expect((await runCli(["messages", "get", all.messageId], as)).stdout).toMatch(/^owner\s+every owner$/m);
    const both = await runCli(["trigger", "cli.owned", "--owner", "user-alice", "--all-owners"], as);
    expect(both.code).toBe(2);
    expectOneErrorLine(both.stderr, /--owner and --all-owners: give one/);
    await rcv.waitFor(() => rcv.requests("/cli-alice").length === 2 && rcv.requests("/cli-bob").length === 1);
    expect((await runCliJson(["deliveries", "list", "--owner", "user-bob"], as)).deliveries.map((d: { owner: string }) => d.owner)).toEqual(["user-bob"]);
  });

  it("a payload that is not JSON, or a file that is missing, is a usage error (2) before any call", async () => {
    const bad = await runCli(["trigger", "x.y", "--data", "{oops"], as);
    expect(bad.code).toBe(2);
    expectOneErrorLine(bad.stderr, /^hookwire: --data: not JSON/);
    const missing = await runCli(["trigger", "x.y", "--data", "@/nonexistent/file.json"], as);
    expect(missing.code).toBe(2);
    expectOneErrorLine(missing.stderr, /--data: cannot read \/nonexistent\/file\.json: ENOENT/);
    const wildcard = await runCli(["trigger", "order.*", "--data", "1"], as);
    expect(wildcard.code).toBe(3);
    expectOneErrorLine(wildcard.stderr, /invalid argument: event/);
  });

  it("deliveries list shows a message's and a subscription's deliveries with their attempts; --failed only failures", { timeout: 90_000 }, async () => {
    const ok = await create("/dl-ok", "--event", "dl.ok");
    const failing = await create("/dl-fail", "--event", "dl.fail", "--retries", "0");
    rcv.route("/dl-fail", { respond: () => ({ status: 400, body: "nope" }) });
    const okMsg = await runCliJson(["trigger", "dl.ok", "--data", "1"], as);
    const failMsg = await runCliJson(["trigger", "dl.fail", "--data", "2"], as);
    await settled(okMsg.messageId, "delivered");
    const failed = await settled(failMsg.messageId, "failed");
    const byMessage = await runCliJson(["deliveries", "list", "--message", okMsg.messageId], as);
    expect(byMessage.deliveries).toHaveLength(1);
    expect(byMessage.deliveries[0]).toMatchObject({ subscriptionId: ok.id, event: "dl.ok", status: "delivered", attempts: [{ statusCode: 200 }] });
    expect(Date.parse(byMessage.deliveries[0].attempts[0].attemptedAt)).not.toBeNaN();
    const failedPage = await runCliJson(["deliveries", "list", "--subscription", failing.id], as);
    expect(failedPage.deliveries).toMatchObject([{ id: failed.id, status: "failed", attempts: [{ statusCode: 400, responseExcerpt: "nope" }] }]);

    const human = await runCli(["deliveries", "list", "--subscription", failing.id], as);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout.split("\n")[0]).toMatch(/^ID\s+STATUS\s+EVENT\s+ATTEMPTS\s+LAST ATTEMPT\s+CREATED\s+URL$/);
    expect(human.stdout).toMatch(new RegExp(`^${failed.id}\\s+failed\\s+dl\\.fail\\s+1\\s+HTTP 400 in \\d+ ms\\s+\\S+\\s+${rcv.url("/dl-fail")}$`, "m"));

    expect((await runCliJson(["deliveries", "list", "--subscription", ok.id, "--failed"], as)).deliveries).toEqual([]);
    expect((await runCli(["deliveries", "list", "--subscription", ok.id, "--failed"], as)).stdout).toBe("no deliveries\n");
    const onlyFailed = await runCliJson(["deliveries", "list", "--subscription", failing.id, "--status", "failed"], as);
    expect(onlyFailed.deliveries.map((d: { id: string }) => d.id)).toEqual([failed.id]);

    const both = await runCli(["deliveries", "list", "--subscription", ok.id, "--message", okMsg.messageId], as);
    expect(both.code).toBe(2);
    const badStatus = await runCli(["deliveries", "list", "--status", "lost"], as);
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toMatch(/^hookwire: option '--status <status>' argument 'lost' is invalid/);
  });

  it("redeliver makes a new delivery of the same message, which the receiver gets", { timeout: 60_000 }, async () => {
    const sub = await create("/redo", "--event", "re.do", "--retries", "0");
    let fail = true;
    rcv.route("/redo", { respond: () => (fail ? { status: 503 } : { status: 200 }) });
    const msg = await runCliJson(["trigger", "re.do", "--data", '{"n":1}'], as);
    const failed = await settled(msg.messageId, "failed");
    fail = false;
    const human = await runCli(["redeliver", failed.id], as);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^redelivering ${failed.id} as (\\S+) \\(pending\\)$`, "m"));
    await rcv.waitFor(() => rcv.requests("/redo").length >= 2);
    const json = await runCliJson(["redeliver", failed.id], as);
    expect(json).toMatchObject({ messageId: msg.messageId, subscriptionId: sub.id, redeliveryOf: failed.id, status: "pending" });
    const missing = await runCli(["redeliver", "dlv_nope"], as);
    expect(missing.code).toBe(4);
    expectOneErrorLine(missing.stderr, /^hookwire: not found: /);
  });

  it("messages get of an unknown id exits 4", async () => {
    const r = await runCli(["messages", "get", "msg_unknown"], as);
    expect(r.code).toBe(4);
    expectOneErrorLine(r.stderr, /^hookwire: not found: /);
  });
});

describe("tail", () => {
  /** Starts tail, then triggers until it has printed `count` outcomes and exited. */
  async function tailWhileTriggering(args: string[], event: string, opts: CliOptions = as) {
    const tail = spawnCli(["tail", ...args], opts);
    let done = false;
    void tail.exited.then(() => (done = true));
    // The stream may open after the first triggers, and the CLI says nothing when it does: keep triggering, one
    // every 300 ms (a sleep that paces them; tail's exit ends it at once), until tail has seen enough.
    for (let i = 0; !done && i < 40; i++) {
      await sdk.trigger(event, i);
      await Promise.race([tail.exited, sleep(300)]);
    }
    return { code: await tail.exited, stdout: tail.stdout(), stderr: tail.stderr() };
  }

  it("prints one line per outcome, without colour when not a terminal; --count stops it", async () => {
    const sub = await create("/tail", "--event", "tail.human");
    const r = await tailWhileTriggering(["--subscription", sub.id, "--count", "2"], "tail.human");
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatch(new RegExp(`^\\S+Z  delivered  \\S+  tail\\.human  ${rcv.url("/tail")}  HTTP 200 in \\d+ ms \\(attempt 1\\)$`));
    }
    expect(r.stdout).not.toContain("\x1b[");
  });

  it("--json prints one JSON line per outcome", async () => {
    const sub = await create("/tail-json", "--event", "tail.json", "--retries", "1");
    rcv.route("/tail-json", { respond: (n) => ({ status: n % 2 === 1 ? 500 : 200 }) });
    const r = await tailWhileTriggering(["--subscription", sub.id, "--count", "2", "--json"], "tail.json");
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(events).toHaveLength(2);
    for (const d of events) expect(d).toMatchObject({ subscriptionId: sub.id, event: "tail.json", url: rcv.url("/tail-json") });
    // Every other attempt gets a 500: that outcome is pending with a retry due, the 200 after it delivered.
    for (const d of events) {
      const last = d.attempts.at(-1);
      if (last.statusCode === 500) expect(d).toMatchObject({ status: "pending" });
      else expect(d).toMatchObject({ status: "delivered", nextAttemptAt: null });
      expect(last.statusCode === 500 ? Date.parse(d.nextAttemptAt) : 0).not.toBeNaN();
    }
  });

  it("is coloured on a terminal, and not with NO_COLOR set", async () => {
    const sub = await create("/tail-tty", "--event", "tail.tty");
    const onTerminal = async (env: Record<string, string>) => {
      const run = runCliOnTerminal(["tail", "--subscription", sub.id, "--count", "1"], { env: { ...as.env, ...env } });
      let done = false;
      void run.then(() => (done = true));
      for (let i = 0; !done && i < 40; i++) {
        await sdk.trigger("tail.tty", 1);
        await Promise.race([run, sleep(300)]); // paced as in tailWhileTriggering
      }
      return run;
    };
    const coloured = await onTerminal({});
    expect(coloured.code, coloured.stdout).toBe(0);
    expect(coloured.stdout).toContain("watching deliveries of");
    expect(coloured.stdout).toContain("\x1b[32mdelivered");
    const plain = await onTerminal({ NO_COLOR: "1" });
    expect(plain.code, plain.stdout).toBe(0);
    expect(plain.stdout).toMatch(/delivered  \S+  tail\.tty/);
    expect(plain.stdout).not.toContain("\x1b[32m");
  });
});

describe("key, address and errors", () => {
  it("--api-key and --url flags work without the environment, and win over it", async () => {
    const flags = await runCli(["--api-key", KEYS.acme, "--url", server.baseUrl, "subscriptions", "list", "--json"]);
    expect(flags.code, flags.stderr).toBe(0);
    const over = await runCli(["subscriptions", "list", "--api-key", KEYS.acme], { env: { HOOKWIRE_API_KEY: "wrong-key", HOOKWIRE_URL: server.baseUrl } });
    expect(over.code, over.stderr).toBe(0);
    // Another tenant's key sees none of acme's subscriptions.
    const globex = await runCliJson(["subscriptions", "list", "--api-key", KEYS.globex], as);
    expect(globex.subscriptions).toEqual([]);
    // The Connect protocol on HTTP/1.1 too.
    expect((await runCli(["subscriptions", "list", "--protocol", "connect"], as)).code).toBe(0);
  });

  it("a wrong key exits 5 with one line", async () => {
    const r = await runCli(["subscriptions", "list"], { env: { HOOKWIRE_API_KEY: "not-a-key", HOOKWIRE_URL: server.baseUrl } });
    expect(r.code).toBe(5);
    expectOneErrorLine(r.stderr, /^hookwire: unauthenticated: .*the key came from HOOKWIRE_API_KEY; pass --api-key or set HOOKWIRE_API_KEY/);
  });

  it("a refused key names where it came from: the flag, or the key file of HOOKWIRE_DATA_DIR read in its place", async () => {
    const flag = await runCli(["subscriptions", "list", "--api-key", "not-a-key"], { env: { HOOKWIRE_URL: server.baseUrl } });
    expect(flag.code).toBe(5);
    expectOneErrorLine(flag.stderr, /^hookwire: unauthenticated: .*\(the key came from --api-key; pass --api-key/);
    // Another server's data folder: its development key is not this server's.
    const other = mkdtempSync(join(tmpdir(), "hookwire-cli-other-"));
    writeFileSync(join(other, "dev-api-key"), "another-servers-key\n");
    const file = await runCli(["subscriptions", "list"], { env: { HOOKWIRE_URL: server.baseUrl, HOOKWIRE_DATA_DIR: other } });
    expect(file.code).toBe(5);
    expectOneErrorLine(file.stderr, /^hookwire: unauthenticated: /);
    expect(file.stderr).toContain(`the key was read from ${join(other, "dev-api-key")} (HOOKWIRE_DATA_DIR=${other})`);
    // No key at all: the line names the file that is missing.
    const empty = mkdtempSync(join(tmpdir(), "hookwire-cli-empty-"));
    const none = await runCli(["subscriptions", "list"], { env: { HOOKWIRE_URL: server.baseUrl, HOOKWIRE_DATA_DIR: empty } });
    expect(none.code).toBe(5);
    expect(none.stderr).toContain(`no key was sent: HOOKWIRE_API_KEY is unset and ${join(empty, "dev-api-key")} does not exist`);
  });

  it("nothing listening exits 6: cannot reach Hookwire at the address", async () => {
    const port = await new Promise<number>((res) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    const url = `http://127.0.0.1:${port}`;
    const r = await runCli(["trigger", "a.b", "--data", "1"], { env: { HOOKWIRE_API_KEY: KEYS.acme, HOOKWIRE_URL: url } });
    expect(r.code).toBe(6);
    expectOneErrorLine(r.stderr, new RegExp(`^hookwire: cannot reach Hookwire at ${url} \\(ECONNREFUSED\\)$`));
  });

  it("usage errors exit 2: unknown command, unknown flag, missing argument", async () => {
    const unknown = await runCli(["subscriptons", "list"], as);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^hookwire: unknown command 'subscriptons'/);
    expect(unknown.stderr).toContain("Did you mean subscriptions?");
    const flag = await runCli(["trigger", "a.b", "--dat", "1"], as);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^hookwire: unknown option '--dat'/);
    const missing = await runCli(["messages", "get"], as);
    expect(missing.code).toBe(2);
    expectOneErrorLine(missing.stderr, /^hookwire: missing required argument 'id'$/);
    const number = await runCli(["subscriptions", "create", "--endpoint", rcv.url("/n"), "--retries", "three"], as);
    expect(number.code).toBe(2);
    expectOneErrorLine(number.stderr, /^hookwire: --retries: "three" is not a whole number$/);
  });

  it("--help works for every command and lists its flags and the exit codes", { timeout: 90_000 }, async () => {
    const top = await runCli(["--help"]);
    expect(top.code).toBe(0);
    for (const c of ["subscriptions", "trigger", "messages", "deliveries", "redeliver", "recover", "tail", "sign", "verify"]) expect(top.stdout).toContain(c);
    expect(top.stdout).toMatch(/Exit codes: 0 ok, 1 signature does not verify, 2 usage/);
    expect(top.stdout).toMatch(/^Owners are your customers: .*--owner/m); // the owner model comes first
    const cases: [string[], string][] = [
      [["subscriptions", "list"], "--page-token"],
      [["subscriptions", "create"], "--retry-delay-ms"],
      [["subscriptions", "update"], "--disable"],
      [["subscriptions", "delete"], "<id>"],
      [["subscriptions", "rotate-secret"], "--previous-ttl"],
      [["trigger"], "--data"],
      [["messages", "get"], "<id>"],
      [["deliveries", "list"], "--failed"],
      [["redeliver"], "<delivery-id>"],
      [["recover"], "--since"],
      [["tail"], "--count"],
      [["sign"], "--scheme"],
      [["verify"], "--tolerance"],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli([...args, "--help"])));
    cases.forEach(([args, flag], i) => {
      expect(runs[i]!.code, args.join(" ")).toBe(0);
      expect(runs[i]!.stdout, args.join(" ")).toContain(flag);
    });
  });

  it("a delivery's headers verify with `hookwire verify`, both schemes", async () => {
    const { secret } = await create("/verify-me", "--event", "v.me");
    rcv.route("/verify-me", { secret });
    await runCliJson(["trigger", "v.me", "--data", '{"ok":true}'], as);
    const [got] = await rcv.waitFor(() => rcv.requests("/verify-me").length >= 1).then(() => rcv.requests("/verify-me"));
    const h = got!.headers;
    const std = await runCli(["verify", "--secret", secret, "--signature", String(h["webhook-signature"]), "--id", String(h["webhook-id"]), "--timestamp", String(h["webhook-timestamp"])], {
      input: got!.body,
    });
    expect(std).toMatchObject({ code: 0, stdout: "valid (standard-webhooks)\n" });
    expect(await checkStandard({ body: got!.body, signature: String(h["webhook-signature"]), secret, webhookId: String(h["webhook-id"]), timestamp: Number(h["webhook-timestamp"]) })).toBe("");
    const gh = await runCliJson(["verify", "--secret", secret, "--signature", String(h["x-hub-signature-256"]), "--body", got!.body]);
    expect(gh).toEqual({ scheme: "github", valid: true, reason: "" });
  });
});
