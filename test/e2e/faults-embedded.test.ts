// Faults of the embedded store, for real: its disk fills up (a small tmpfs as the data folder), its FerretDB is
// killed with -9, and one Ctrl-C reaches `npm start`'s whole process group.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, expect, it } from "vitest";
import { DeliveryStatus } from "@hookwire/sdk/proto";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "../../server/gen/grpc/health/v1/health_pb.js";
import { commandLine, ferretdbPid, isGone, waitGone } from "../helpers/proc.js";
import { startReceiver } from "../helpers/receiver.js";
import { bearer, failure, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const json = (v: unknown) => fromJson(ValueSchema, v as never);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const acme = { headers: bearer(KEYS.acme) };
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanup.length) await Promise.resolve(cleanup.pop()!()).catch(() => undefined);
});

function embeddedEnv(dataDir: string): Record<string, string | undefined> {
  return { MONGODB_URI: undefined, HOOKWIRE_DATA_DIR: dataDir, HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_POLL_MS: "100" };
}

async function serve(dataDir: string): Promise<RunningServer> {
  const s = await startServer({ env: embeddedEnv(dataDir) });
  cleanup.push(() => s.stop("SIGKILL"));
  return s;
}

function health(server: RunningServer) {
  return createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl }));
}

/** Until what `get` answers is `ok`; at the deadline the error names `what` and the last answer. */
async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  let last: T | undefined;
  const found = await waitFor(
    async () => {
      last = await get();
      return ok(last) ? { value: last } : undefined;
    },
    { timeoutMs: ms, intervalMs: 200, what: () => `${what}: still ${JSON.stringify(last)}` },
  );
  return found.value;
}

const asRoot = process.getuid?.() === 0;

it.skipIf(!asRoot)("a full disk: Trigger answers UNAVAILABLE naming it, health turns NOT_SERVING (Check and Watch), and both recover once space is freed", async () => {
  // A tmpfs of its own is a real disk that really fills up: SQLite gets ENOSPC and FerretDB answers
  // "database or disk is full". (Mounting needs root; this test is skipped otherwise, and runs as root in CI.)
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-full-"));
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", dataDir], { encoding: "utf8" });
  expect(mounted.status, `mount -t tmpfs failed: ${mounted.stderr}`).toBe(0);
  cleanup.push(() => spawnSync("umount", ["-l", dataDir]));
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const server = await serve(dataDir);
  const client = grpcClient(server);
  const probes = health(server);
  await client.register({ url: rcv.url("/full"), events: ["disk.*"] }, acme);
  expect((await client.trigger({ event: "disk.ok", payload: json({ n: 0 }) }, acme)).deliveries).toBe(1);
  expect((await probes.check({})).status).toBe(Serving.SERVING);
  const watch = new AbortController();
  cleanup.push(() => watch.abort());
  const seen: Serving[] = [];
  const watching = (async () => {
    for await (const res of probes.watch({}, { signal: watch.signal })) seen.push(res.status);
  })().catch(() => undefined);

  // Fill every byte that is left.
  const filler = join(dataDir, "filler");
  const fd = openSync(filler, "w");
  const chunk = Buffer.alloc(1 << 20, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: full
  }
  try {
    for (;;) writeSync(fd, chunk.subarray(0, 4096));
  } catch {
    // the last few pages
  }
  closeSync(fd);

  const payload = json({ blob: "x".repeat(64 * 1024) }); // needs new pages however SQLite's file is laid out
  const err = await failure(client.trigger({ event: "disk.full", payload, idempotencyKey: "full-1" }, acme));
  expect(err.code).toBe(Code.Unavailable);
  expect(err.rawMessage).toBe("the database cannot write: its disk is full; the request was not completed, try again once space is freed");
  await until("Check while full", async () => (await probes.check({})).status, (s) => s === Serving.NOT_SERVING);
  await until("Watch while full", async () => seen, (s) => s.includes(Serving.NOT_SERVING));
  expect(server.output()).toContain('"msg":"the database cannot write; health is NOT_SERVING until a probe write succeeds"');

  rmSync(filler);
  await until("Check once freed", async () => (await probes.check({})).status, (s) => s === Serving.SERVING);
  await until("Watch once freed", async () => seen, (s) => s.lastIndexOf(Serving.SERVING) > s.indexOf(Serving.NOT_SERVING));
  expect(server.output()).toContain('"msg":"the database writes again; health is SERVING"');
  // The same request again is stored now, and delivered.
  const again = await client.trigger({ event: "disk.full", payload, idempotencyKey: "full-1" }, acme);
  expect(again.deliveries).toBe(1);
  await rcv.waitFor(() => rcv.requests("/full").some((r) => r.body.includes('"event":"disk.full"')));
  expect(server.output()).not.toContain('"msg":"internal error"');
  watch.abort();
  await watching;
});

it("the embedded FerretDB killed with -9 is restarted; calls meanwhile answer UNAVAILABLE or wait for it; a delivery accepted before arrives after", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-restart-"));
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const server = await serve(dataDir);
  const client = grpcClient(server);
  const { secret } = await client.register({ url: rcv.url("/r"), events: ["crash.*"], retries: 5, retryDelayMs: 1500 }, acme);
  // The first attempt fails, so the delivery is still owed (its retry due in about 1.5 s) when FerretDB dies.
  rcv.route("/r", { secret, respond: (n) => ({ status: n === 1 ? 503 : 200 }) });
  const { messageId } = await client.trigger({ event: "crash.before", payload: json({ n: 1 }) }, acme);
  await rcv.waitFor(() => rcv.requests("/r").length >= 1);

  const first = ferretdbPid(dataDir);
  const socketArg = (pid: number) => commandLine(pid).find((a) => a.startsWith("--listen-unix="));
  const socket = socketArg(first);
  expect(socket).toBeTruthy();
  process.kill(first, "SIGKILL");
  expect(await waitGone(first, 5000)).toBe(true);
  // In the gap a call either fails UNAVAILABLE or (the driver waiting for the server) succeeds once it is back.
  const codes: number[] = []; // 0: OK
  for (let i = 0; i < 5; i++) {
    // Bounded, so a call that never answers ends with DEADLINE_EXCEEDED instead of hanging the test.
    codes.push(await client.listSubscriptions({}, { ...acme, timeoutMs: 10_000 }).then(() => 0, (e) => ConnectError.from(e).code));
  }
  // A failure shows what the server logged meanwhile (warnings and errors, FerretDB's restart).
  const logged = () => server.output().split("\n").filter((l) => /"level":"(warn|error)"|FerretDB/.test(l)).slice(-12).map((l) => l.slice(0, 300)).join("\n");
  // Every call answers: the first one, made as the driver's sockets read FerretDB's end, once never settled
  // (a driver write to a closed socket, see server/store/common/closed-socket-writes.ts).
  expect(codes.filter((c) => c !== 0 && c !== Code.Unavailable), logged()).toEqual([]);

  await until("restart logged", async () => server.output(), (o) => o.includes('"msg":"embedded FerretDB restarted"'));
  expect(server.output()).toContain('"msg":"embedded FerretDB exited; restarting it"');
  const second = ferretdbPid(dataDir);
  expect(second).not.toBe(first);
  expect(isGone(second)).toBe(false);
  expect(socketArg(second)).toBe(socket); // the same address: the driver reconnects by itself
  expect(server.child.exitCode).toBeNull();

  // The delivery accepted before the crash is delivered after it, and recorded so.
  await rcv.waitFor(() => rcv.requests("/r").filter((r) => r.headers["webhook-id"] === messageId).length >= 2, 20_000);
  expect(rcv.requests("/r").every((r) => r.verified)).toBe(true);
  await until(
    "delivery recorded as delivered",
    async () => (await client.listDeliveries({ messageId }, { ...acme, timeoutMs: 5000 }).catch(() => ({ deliveries: [] }))).deliveries.map((d) => d.status),
    (s) => s.length === 1 && s[0] === DeliveryStatus.DELIVERED,
  );
  // And new work is taken as before.
  expect((await client.trigger({ event: "crash.after", payload: json({}) }, { ...acme, timeoutMs: 15_000 })).deliveries).toBe(1);
  await rcv.waitFor(() => rcv.requests("/r").some((r) => r.body.includes('"event":"crash.after"')));
  // A loaded machine (CI runs two files at once) restarts FerretDB and reconnects the driver more slowly.
}, 90_000);

it("one Ctrl-C to `npm start`'s process group stops Hookwire gracefully once, and Hookwire stops its FerretDB", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-ctrlc-"));
  // Its own process group, as a terminal's foreground job is: npm, the server under it, and (without its own
  // group) FerretDB would all get the SIGINT.
  const env: NodeJS.ProcessEnv = { ...process.env, ...embeddedEnv(dataDir), HOOKWIRE_PORT: "0", HOOKWIRE_HOST: "127.0.0.1", HOOKWIRE_API_KEYS: `acme:${KEYS.acme}` };
  delete env.MONGODB_URI;
  const npm = spawn("npm", ["start", "--silent"], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  npm.stdout.on("data", (c: Buffer) => (out += c.toString()));
  npm.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => npm.once("exit", () => r()));
  cleanup.push(() => {
    try {
      process.kill(-npm.pid!, "SIGKILL");
    } catch {
      // gone
    }
  });
  await until("listening", async () => out, (o) => o.includes('"msg":"hookwire listening"'), 60_000);
  const port = Number(/"msg":"hookwire listening".*?"port":(\d+)/.exec(out)![1]);
  const ferretdb = ferretdbPid(dataDir);
  const socket = commandLine(ferretdb).find((a) => a.startsWith("--listen-unix="))!.slice("--listen-unix=".length);
  const server = { baseUrl: `http://127.0.0.1:${port}` } as RunningServer;
  expect((await grpcClient(server).listSubscriptions({}, acme)).subscriptions).toEqual([]);

  process.kill(-npm.pid!, "SIGINT");
  await exited;
  expect(out.match(/"msg":"shutting down"/g)).toHaveLength(1);
  expect(out).not.toContain("second signal");
  expect(out).not.toContain("embedded FerretDB exited");
  expect(out).not.toContain("shutdown failed");
  expect(await waitGone(ferretdb, 5000)).toBe(true);
  expect(existsSync(dirname(socket))).toBe(false); // its private socket folder too
});
