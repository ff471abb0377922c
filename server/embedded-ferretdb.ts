// The embedded MongoDB-compatible server: FerretDB 1.24.2 on SQLite, built once, run as a child process.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";
import { freePort } from "./free-port.js";

const BUILD_SCRIPT = fileURLToPath(new URL("../scripts/build-ferretdb.sh", import.meta.url));

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
 * A FerretDB left running by a server that was killed with -9 still holds the data folder.
 * Its pid file names it; it is stopped only if its command line shows it is ours.
 */
async function stopStale(pidFile: string, stateDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, "utf8").trim());
  } catch {
    return;
  }
  let cmdline = "";
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return; // not running (or no /proc): nothing to stop
  }
  if (!cmdline.includes(`--state-dir=${stateDir}`)) return;
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(pid, "SIGKILL");
}

export interface EmbeddedFerretDB {
  uri: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Folder holding data/ and state/; created when missing. */
  dir: string;
  port?: number;
  /** How long to wait for the first successful ping. */
  readyTimeoutMs?: number;
}

export async function startFerretDB(options: StartOptions): Promise<EmbeddedFerretDB> {
  const binary = ferretdbBinary();
  const dir = resolve(options.dir);
  const dataDir = join(dir, "data");
  const stateDir = join(dir, "state");
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const pidFile = join(dir, "ferretdb.pid");
  await stopStale(pidFile, stateDir);
  const port = options.port ?? (await freePort());
  const child = spawn(
    binary,
    [
      "--handler=sqlite",
      `--sqlite-url=file:${dataDir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      `--state-dir=${stateDir}`,
      "--debug-addr=-",
      "--telemetry=disable",
      "--log-level=warn",
    ],
    { env: { ...process.env, DO_NOT_TRACK: "1" }, stdio: ["ignore", "ignore", "pipe"] },
  );
  if (child.pid) writeFileSync(pidFile, String(child.pid));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  const uri = `mongodb://127.0.0.1:${port}/?directConnection=true`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  let ready = false;
  while (!ready) {
    if (child.exitCode !== null) {
      throw new EmbeddedStoreError(`FerretDB exited with code ${child.exitCode}: ${stderr.trim()}`);
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new EmbeddedStoreError(`FerretDB did not answer a ping on port ${port}: ${stderr.trim()}`);
    }
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
    try {
      await client.db("admin").command({ ping: 1 });
      ready = true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.close().catch(() => {});
    }
  }
  return {
    uri,
    port,
    dataDir: dir,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
