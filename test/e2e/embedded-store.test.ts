// The embedded store's process and data folder: private to the server, one server per folder, gone with it.
import { spawn } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandLine, environment, ferretdbPid, isGone, tcpListeners, waitGone } from "../helpers/proc.js";
import { bearer, grpcClient, KEYS, spawnServer, startServer, type RunningServer } from "../helpers/server.js";
import { freePort } from "../helpers/free-port.js";

const acme = { headers: bearer(KEYS.acme) };

function embeddedEnv(dataDir: string, more: Record<string, string> = {}) {
  return { MONGODB_URI: undefined, HOOKWIRE_DATA_DIR: dataDir, ...more };
}

function killIfRunning(pid: number) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

it("a FerretDB whose server is killed with -9 exits by itself within a few seconds", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-orphan-"));
  const server = await startServer({ env: embeddedEnv(dataDir) });
  const pid = ferretdbPid(dataDir);
  try {
    expect(isGone(pid)).toBe(false);
    await server.stop("SIGKILL");
    expect(await waitGone(pid, 3000)).toBe(true); // no new start needed
  } finally {
    killIfRunning(pid);
  }
});

describe("one server per data folder", () => {
  it("a second server on a folder in use refuses with one line naming the folder and the owner; the first keeps serving", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hookwire-twice-"));
    const first = await startServer({ env: embeddedEnv(dataDir) });
    const firstFerretdb = ferretdbPid(dataDir);
    const second = spawnServer({ env: embeddedEnv(dataDir) });
    try {
      const outcome = await Promise.race([second.exited, new Promise((r) => setTimeout(() => r("still running"), 20_000))]);
      expect(outcome).toBe(2);
      const lines = second.output().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(
        `hookwire: the data folder ${dataDir} is in use by process ${first.child.pid}: stop that server first, or set HOOKWIRE_DATA_DIR to another folder`,
      );
      expect(isGone(firstFerretdb)).toBe(false);
      const res = await grpcClient(first).register({ url: "http://127.0.0.1:9/first", events: ["*"] }, acme);
      expect(res.subscription!.id).toMatch(/^sub_/);
      expect(first.child.exitCode).toBeNull();
    } finally {
      second.child.kill("SIGKILL");
      await first.stop();
    }
    expect(() => readFileSync(join(dataDir, "hookwire.lock"))).toThrow(); // released at stop
  });

  it("a lock left by a process that is gone is taken over", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hookwire-stale-lock-"));
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => dead.once("exit", r));
    writeFileSync(join(dataDir, "hookwire.lock"), `${dead.pid} 12345\n`);
    const server = await startServer({ env: embeddedEnv(dataDir) });
    try {
      expect(readFileSync(join(dataDir, "hookwire.lock"), "utf8")).toMatch(new RegExp(`^${server.child.pid} `));
      const res = await grpcClient(server).listSubscriptions({}, acme);
      expect(res.subscriptions).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it("of several processes taking over one stale lock at once, exactly one gets it", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hookwire-lock-race-"));
    writeFileSync(join(dataDir, "hookwire.lock"), "999999999 1\n"); // no such pid
    const lockModule = new URL("../../server/dev/data-folder-lock.ts", import.meta.url).href;
    // Each waits for a shared start instant, tries once, and holds what it got for a while.
    const at = Date.now() + 1500;
    const script = `const m = await import(${JSON.stringify(lockModule)});
      await new Promise((r) => setTimeout(r, ${at} - Date.now()));
      try { m.lockDataFolder(${JSON.stringify(dataDir)}); console.log("won"); } catch (e) { console.log(e.name); }
      setTimeout(() => {}, 1500);`;
    const runs = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      return new Promise<string>((r) => child.once("exit", () => r(out.trim())));
    });
    const outcomes = (await Promise.all(runs)).sort();
    expect(outcomes).toEqual(["DataFolderInUseError", "DataFolderInUseError", "DataFolderInUseError", "won"]);
  });
});

describe("the embedded store is private to the server", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-private-"));
  let server: RunningServer;
  let pid: number;

  beforeAll(async () => {
    // A folder as an older version left it: 0755 folders, a 0644 file.
    mkdirSync(join(dataDir, "ferretdb", "data"), { recursive: true });
    for (const d of [dataDir, join(dataDir, "ferretdb"), join(dataDir, "ferretdb", "data")]) chmodSync(d, 0o755);
    writeFileSync(join(dataDir, "dev-api-key"), "hwk_left_by_an_older_version\n", { mode: 0o644 });
    chmodSync(join(dataDir, "dev-api-key"), 0o644);
    server = await startServer({
      env: embeddedEnv(dataDir, { HOOKWIRE_TEST_SECRET: "do-not-pass-on", AWS_SECRET_ACCESS_KEY: "nor-this" }),
    });
    pid = ferretdbPid(dataDir);
    await grpcClient(server).register({ url: "http://127.0.0.1:9/stored", events: ["*"] }, acme);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("keeps the data folder and everything in it private to its owner, including what FerretDB writes", () => {
    const wrong: string[] = [];
    const walk = (path: string) => {
      const st = lstatSync(path);
      const perm = st.mode & 0o777;
      if (st.isDirectory() ? perm !== 0o700 : (perm & 0o077) !== 0) wrong.push(`${path} ${perm.toString(8)}`);
      if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    };
    walk(dataDir);
    expect(wrong).toEqual([]);
    expect(readdirSync(join(dataDir, "ferretdb", "data")).some((f) => f.endsWith(".sqlite"))).toBe(true);
  });

  it("runs FerretDB without a TCP listener, on a socket in a private folder, and logs no connection string", () => {
    expect(tcpListeners(pid)).toEqual([]);
    const socket = commandLine(pid).find((a) => a.startsWith("--listen-unix="))?.slice("--listen-unix=".length);
    expect(socket).toBeTruthy();
    expect(lstatSync(socket!).isSocket()).toBe(true);
    expect(lstatSync(dirname(socket!)).mode & 0o777).toBe(0o700);
    expect(server.output()).not.toMatch(/mongodb:\/\//);
  });

  it("gives FerretDB an environment without the server's secrets", () => {
    const env = environment(pid);
    expect(env.DO_NOT_TRACK).toBe("1");
    const allowed = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "GOMAXPROCS", "GOMEMLIMIT", "GOGC", "DO_NOT_TRACK"];
    allowed.push("PWD"); // set by the sh that starts FerretDB
    expect(Object.keys(env).filter((k) => !allowed.includes(k))).toEqual([]);
    expect(JSON.stringify(env)).not.toMatch(/acme-key|do-not-pass-on|nor-this/);
    // Unless the server's own environment sets it, FerretDB's Go collector runs less often (bench/HISTORY.md).
    expect(env.GOGC).toBe(process.env.GOGC ?? "400");
  });
});

it("serves FerretDB's debug listener (pprof) on the loopback address HOOKWIRE_FERRETDB_DEBUG_ADDR names (without it there is none: see the test above)", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-debug-addr-"));
  const port = await freePort();
  const server = await startServer({ env: embeddedEnv(dataDir, { HOOKWIRE_FERRETDB_DEBUG_ADDR: `127.0.0.1:${port}` }) });
  try {
    const pid = ferretdbPid(dataDir);
    // /proc/net/tcp spells 127.0.0.1:port as hex.
    expect(tcpListeners(pid)).toEqual([`0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`]);
    const res = await fetch(`http://127.0.0.1:${port}/debug/pprof/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/goroutine/);
  } finally {
    await server.stop();
  }
});
