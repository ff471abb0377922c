// The embedded MongoDB-compatible server: FerretDB 1.24.2 on SQLite, built once, run as a child process
// that only the server can reach and that does not outlive it.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createConnection } from "node:net";
import { basename, delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { errorFields, type Logger } from "../telemetry/log.js";

const BUILD_SCRIPT = fileURLToPath(new URL("../../scripts/build-ferretdb.sh", import.meta.url));
const SOCKET_DIR_PREFIX = "hookwire-ferretdb-";
/** sun_path holds 108 bytes with its terminating NUL on Linux, 104 on macOS. */
const MAX_SOCKET_PATH = 103;

export class EmbeddedStoreError extends Error {
  override name = "EmbeddedStoreError";
}

/** Path of the FerretDB binary, building it on first use. */
export function ferretdbBinary(): string {
  const out = spawnSync("bash", [BUILD_SCRIPT], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (out.status === 3) {
    throw new EmbeddedStoreError(
      "no MONGODB_URI is set and Go is not installed to build the embedded FerretDB: install Go (https://go.dev/dl) or set MONGODB_URI=mongodb://HOST:PORT",
    );
  }
  if (out.status !== 0) throw new EmbeddedStoreError(`building FerretDB failed (exit ${out.status})`);
  return out.stdout.trim().split("\n").pop() ?? "";
}

/**
 * The pid file: line 1 the FerretDB pid, line 2 its private socket folder (if any), for the clean-up below.
 */
function readPidFile(pidFile: string): { pid: number; socketDir?: string } | undefined {
  try {
    const [pid, socketDir] = readFileSync(pidFile, "utf8").split("\n");
    return { pid: Number(pid), ...(socketDir ? { socketDir } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * A FerretDB that outlived its server (where the parent-death signal is not available, or in the instant between
 * its start and that signal being armed) still holds the data folder. Its pid file names it; it is stopped only if
 * its command line shows it is ours. The data folder's lock guarantees its server is gone.
 */
async function stopStale(pidFile: string, stateDir: string): Promise<void> {
  const stale = readPidFile(pidFile);
  if (!stale) return;
  if (stale.socketDir && isOurSocketDir(stale.socketDir)) rmSync(stale.socketDir, { recursive: true, force: true });
  let cmdline = "";
  try {
    cmdline = readFileSync(`/proc/${stale.pid}/cmdline`, "utf8");
  } catch {
    return; // not running (or no /proc): nothing to stop
  }
  if (!cmdline.includes(`--state-dir=${stateDir}`)) return;
  process.kill(stale.pid, "SIGTERM");
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(stale.pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(stale.pid, "SIGKILL");
}

function isOurSocketDir(dir: string): boolean {
  return dirname(dir) === resolve(tmpdir()) && basename(dir).startsWith(SOCKET_DIR_PREFIX);
}

/**
 * What FerretDB sees of our environment: no API keys, encryption keys or database URIs, only what a Go program
 * needs to run, and telemetry off.
 */
const INHERITED_ENV = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "GOMAXPROCS", "GOMEMLIMIT", "GOGC"];

/**
 * Go's collector at its default (GOGC=100) ran 8 % of FerretDB's profile on the peer workload; at 400 FerretDB
 * took 14-23 % less CPU a Trigger. The heap may then grow to five times what is live rather than twice:
 * 41 → 53 MB resident on the peer workload, and 88 → 175 MB at the peak of the memory figure's backlog of
 * 50,000 deliveries of 64 KB messages (200 halves the CPU saved, for 118 MB; bench/HISTORY.md). A GOGC of the
 * caller's own still wins.
 */
const DEFAULT_GOGC = "400";

function childEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { DO_NOT_TRACK: "1", GOGC: DEFAULT_GOGC };
  for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}

function findOnPath(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, program);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** setpriv, if it exists and knows --pdeathsig (util-linux 2.33 and later). */
function pdeathsigSetpriv(): string | undefined {
  const setpriv = findOnPath("setpriv");
  if (!setpriv) return undefined;
  const probe = spawnSync(setpriv, ["--pdeathsig", "TERM", "--", "/bin/sh", "-c", ":"], { stdio: "ignore" });
  return probe.status === 0 ? setpriv : undefined;
}

/**
 * FerretDB under `sh` for `umask 077` (the SQLite files it creates later are private) and, where util-linux's
 * setpriv exists, with a parent-death signal: the kernel sends SIGTERM to FerretDB when the server dies, even by
 * kill -9. Both `exec`, so the child's pid is FerretDB's. (Node spawns from its main thread, the one the signal
 * is tied to.) Without setpriv, the next start stops a FerretDB left behind (stopStale).
 */
function guardedCommand(binary: string, args: string[]): [string, string[]] {
  const setpriv = pdeathsigSetpriv();
  const script = setpriv ? 'umask 077 && exec "$0" --pdeathsig TERM -- "$@"' : 'umask 077 && exec "$0" "$@"';
  return ["/bin/sh", ["-c", script, ...(setpriv ? [setpriv] : []), binary, ...args]];
}

export interface EmbeddedFerretDB {
  /** Connection string; for the private socket it names a path: keep it out of logs. It stays the same across restarts. */
  uri: string;
  /** The TCP port, only when started with one. */
  port?: number;
  dataDir: string;
  /** The FerretDB running now: a restart replaces it. */
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** A FerretDB that dies on its own is started again after 100 ms, then 200, 400, … at most 5 s apart. */
export const RESTART_FIRST_DELAY_MS = 100;
export const RESTART_MAX_DELAY_MS = 5000;
/** One that then ran this long was well again: its next death starts the backoff over. */
const RESTART_RESET_AFTER_MS = 30_000;

export interface StartOptions {
  /** Folder holding data/ and state/; created (0700) when missing. */
  dir: string;
  /**
   * Listen on this TCP port on 127.0.0.1 (no authentication: any local user can connect), for tests that stop
   * and restart FerretDB at one address. Without it, FerretDB listens only on a Unix socket in a private folder.
   */
  port?: number;
  /** How long to wait for the first successful ping. */
  readyTimeoutMs?: number;
  /** FerretDB's debug listener (pprof, metrics) at this loopback address; off when unset. */
  debugAddr?: string | undefined;
  /**
   * Start FerretDB again (at the same address, so the driver reconnects by itself) whenever it exits without
   * stop() having been called, logging each exit and restart. Without it, a FerretDB that dies stays dead.
   */
  restart?: { log: Logger };
}

/** One FerretDB process: its exit, and the tail of what it wrote to stderr (for the log line that says why it died). */
interface Run {
  child: ChildProcess;
  startedAt: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

export async function startFerretDB(options: StartOptions): Promise<EmbeddedFerretDB> {
  const binary = ferretdbBinary();
  const dir = resolve(options.dir);
  const dataDir = join(dir, "data");
  const stateDir = join(dir, "state");
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const pidFile = join(dir, "ferretdb.pid");
  await stopStale(pidFile, stateDir);

  let socketDir: string | undefined;
  let socket: string | undefined;
  let listen: string[];
  let uri: string;
  if (options.port !== undefined) {
    listen = [`--listen-addr=127.0.0.1:${options.port}`];
    uri = `mongodb://127.0.0.1:${options.port}/?directConnection=true`;
  } else {
    socketDir = mkdtempSync(join(tmpdir(), SOCKET_DIR_PREFIX)); // 0700
    socket = join(socketDir, "ferretdb.sock");
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
      rmSync(socketDir, { recursive: true, force: true });
      throw new EmbeddedStoreError(`the embedded FerretDB's socket path ${socket} is too long: set TMPDIR to a shorter folder`);
    }
    listen = ["--listen-addr=", `--listen-unix=${socket}`]; // an empty TCP address turns TCP off
    uri = `mongodb://${encodeURIComponent(socket)}/?directConnection=true`;
  }
  // The socket folder lives as long as this handle, not one process: a restarted FerretDB listens at the same path.
  const removeSocketDir = () => {
    if (socketDir) rmSync(socketDir, { recursive: true, force: true });
  };

  const [command, args] = guardedCommand(binary, [
    "--handler=sqlite",
    `--sqlite-url=file:${dataDir}/`,
    ...listen,
    `--state-dir=${stateDir}`,
    `--debug-addr=${options.debugAddr ?? "-"}`,
    "--telemetry=disable",
    "--log-level=warn",
  ]);
  const where = options.port !== undefined ? `on port ${options.port}` : "on its socket";

  const launch = async (): Promise<Run> => {
    // A FerretDB killed with -9 leaves its socket file behind, and a new one cannot listen where a file is.
    if (socket) rmSync(socket, { force: true });
    // detached: its own process group (and session), so a Ctrl-C at the terminal reaches only the server, which
    // stops FerretDB itself after its graceful stop has written what it holds. The parent-death signal still
    // takes it down if the server dies.
    const child = spawn(command, args, { env: childEnvironment(), stdio: ["ignore", "ignore", "pipe"], detached: true });
    if (child.pid) writeFileSync(pidFile, `${child.pid}\n${socketDir ?? ""}\n`, { mode: 0o600 });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
      child.once("exit", (code, signal) => res({ code, signal })),
    );
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new EmbeddedStoreError(`FerretDB exited with ${child.exitCode ?? child.signalCode}: ${stderr.trim()}`);
      }
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        await exited;
        throw new EmbeddedStoreError(`FerretDB did not answer a ping ${where}: ${stderr.trim()}`);
      }
      // Ready once its listener takes a connection (FerretDB opens it after its backend): a plain connect, so
      // that only the store speaks to the database with the driver.
      if (await accepts(socket ?? { port: options.port! })) return { child, startedAt: Date.now(), exited, stderr: () => stderr };
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  let current: Run;
  try {
    current = await launch();
  } catch (err) {
    removeSocketDir();
    throw err;
  }
  let stopping = false;
  let relaunching: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let delay = RESTART_FIRST_DELAY_MS;

  /** Waits out the backoff and starts FerretDB again, as often as it takes, until it runs or stop() is called. */
  const relaunch = async (log: Logger): Promise<void> => {
    for (let attempt = 1; !stopping; attempt++) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, delay);
        wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      wake = undefined;
      if (stopping) return;
      const waited = delay;
      delay = Math.min(delay * 2, RESTART_MAX_DELAY_MS);
      try {
        current = await launch();
      } catch (err) {
        log.error("restarting the embedded FerretDB failed; trying again", { attempt, nextInMs: delay, ...errorFields(err) });
        continue;
      }
      if (stopping) {
        await stopRun(current);
        return;
      }
      log.warn("embedded FerretDB restarted", { pid: current.child.pid, attempt, afterMs: waited });
      watch(current, log);
      return;
    }
  };
  const watch = (run: Run, log: Logger) => {
    void run.exited.then(({ code, signal }) => {
      if (stopping) return;
      if (Date.now() - run.startedAt > RESTART_RESET_AFTER_MS) delay = RESTART_FIRST_DELAY_MS;
      // Until it is back, calls that need the store answer UNAVAILABLE and the engine's writes wait and retry.
      log.error("embedded FerretDB exited; restarting it", { code, signal, inMs: delay, stderr: run.stderr().trim().slice(-500) || undefined });
      relaunching = relaunch(log).finally(() => (relaunching = undefined));
    });
  };
  if (options.restart) watch(current, options.restart.log);

  return {
    uri,
    ...(options.port !== undefined ? { port: options.port } : {}),
    dataDir: dir,
    get process() {
      return current.child;
    },
    async stop() {
      stopping = true;
      wake?.();
      await relaunching;
      await stopRun(current);
      removeSocketDir();
    },
  };
}

async function stopRun(run: Run): Promise<void> {
  const { child } = run;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await run.exited;
  clearTimeout(timer);
}

/** Whether something listens at the Unix socket path or loopback port: one connection, closed at once. */
function accepts(where: string | { port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = typeof where === "string" ? createConnection(where) : createConnection(where.port, "127.0.0.1");
    const done = (ok: boolean) => {
      conn.destroy();
      resolve(ok);
    };
    conn.setTimeout(500, () => done(false));
    conn.once("connect", () => done(true));
    conn.once("error", () => done(false));
  });
}
