// Start-up, configuration errors, restarts and shutdown of the real server process.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect, it } from "vitest";
import { commandLine, ferretdbPid, isGone } from "../helpers/proc.js";
import { bearer, grpcClient, KEYS, spawnServer, startServer, uniqueDatabase } from "../helpers/server.js";

it("keeps a subscription across a restart on the same database", async () => {
  const database = uniqueDatabase("restart");
  const first = await startServer({ database });
  const { subscription } = await grpcClient(first).register({ url: "http://127.0.0.1:9/persist", events: ["a.*"] }, { headers: bearer(KEYS.acme) });
  expect(await first.stop("SIGTERM")).toBe(0);
  expect(first.output()).toContain('"msg":"shutting down"');

  const second = await startServer({ database });
  try {
    const got = await grpcClient(second).getSubscription({ id: subscription!.id }, { headers: bearer(KEYS.acme) });
    expect(got.subscription).toEqual(subscription);
  } finally {
    await second.stop("SIGINT");
  }
});

// Each setting's refusal is checked on loadConfig itself (test/unit/config.test.ts); one spawn checks how the
// process reports one: exit code 2 and one line.
it("exits 2 with one clear line for a bad setting", async () => {
  const run = spawnServer({ env: { HOOKWIRE_PORT: "eighty" } });
  expect(await run.exited).toBe(2);
  const lines = run.output().trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^hookwire: configuration error: HOOKWIRE_PORT: "eighty" is not a whole number/);
});

it("starts the embedded FerretDB when MONGODB_URI is unset, and stops it on SIGTERM", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-embedded-"));
  const server = await startServer({ env: { MONGODB_URI: undefined, HOOKWIRE_DATA_DIR: dataDir } });
  const started = /"msg":"embedded FerretDB started","dataDir":"([^"]+)","pid":(\d+)/.exec(server.output());
  expect(started?.[1]).toBe(join(dataDir, "ferretdb"));
  const pid = Number(started![2]);
  expect(pid).toBe(ferretdbPid(dataDir));
  const socket = commandLine(pid).find((a) => a.startsWith("--listen-unix="))!.slice("--listen-unix=".length);
  const res = await grpcClient(server).register({ url: "http://127.0.0.1:9/e", events: ["*"] }, { headers: bearer(KEYS.acme) });
  expect(res.subscription!.id).toMatch(/^sub_/);
  expect(await server.stop()).toBe(0);
  // The FerretDB child is gone with the server, and so is its socket's private folder.
  expect(isGone(pid)).toBe(true);
  expect(existsSync(dirname(socket))).toBe(false);
});

it("without Go and without MONGODB_URI, stops with one line saying what to do", async () => {
  const empty = mkdtempSync(join(tmpdir(), "hookwire-nogo-"));
  const run = spawnServer({
    env: { MONGODB_URI: undefined, HOOKWIRE_CACHE_DIR: empty, HOOKWIRE_DATA_DIR: empty, PATH: "/usr/bin:/bin" },
  });
  expect(await run.exited).toBe(2);
  expect(run.output().trim()).toMatch(/^hookwire: no MONGODB_URI is set and Go is not installed .* set MONGODB_URI=/);
});

it("generates and keeps a development key when HOOKWIRE_API_KEYS is unset", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-devkey-"));
  const server = await startServer({ env: { HOOKWIRE_API_KEYS: undefined, HOOKWIRE_DATA_DIR: dataDir } });
  try {
    const { readFileSync } = await import("node:fs");
    const key = readFileSync(join(dataDir, "dev-api-key"), "utf8").trim();
    expect(key).toMatch(/^hwk_/);
    expect(server.output()).not.toContain(key);
    const res = await grpcClient(server).listSubscriptions({}, { headers: bearer(key) });
    expect(res.subscriptions).toEqual([]);
  } finally {
    await server.stop();
  }
});

it("after kill -9, the next start takes the data folder over and stops a FerretDB left behind", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-stale-"));
  const env = { MONGODB_URI: undefined, HOOKWIRE_DATA_DIR: dataDir };
  const first = await startServer({ env });
  await first.stop("SIGKILL");
  // FerretDB exits with its server where setpriv exists; elsewhere it stays. A stand-in with FerretDB's
  // command line, named by the pid file, shows the next start stops it.
  const standIn = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)", "--", `--state-dir=${join(dataDir, "ferretdb", "state")}`]);
  const standInSignal = new Promise((r) => standIn.once("exit", (_code, signal) => r(signal)));
  await new Promise((r) => standIn.once("spawn", r)); // running, with that command line
  expect(isGone(standIn.pid!)).toBe(false);
  writeFileSync(join(dataDir, "ferretdb", "ferretdb.pid"), `${standIn.pid}\n`);
  const second = await startServer({ env });
  try {
    expect(await standInSignal).toBe("SIGTERM");
    const res = await grpcClient(second).listSubscriptions({}, { headers: bearer(KEYS.acme) });
    expect(res.subscriptions).toEqual([]);
  } finally {
    standIn.kill("SIGKILL");
    await second.stop();
  }
});

it("a database keeps the delivery layout it was first used with: another one refuses to start", async () => {
  const database = uniqueDatabase("layout");
  const first = await startServer({ database });
  expect(first.output()).toContain('"layout":"ferretdb"'); // auto, on FerretDB
  await first.stop();
  const run = spawnServer({ database, env: { HOOKWIRE_STORE: "mongodb" } });
  expect(await run.exited).not.toBe(0);
  expect(run.output()).toMatch(/HOOKWIRE_STORE: this database holds deliveries in the "ferretdb" layout, not "mongodb"/);
});
