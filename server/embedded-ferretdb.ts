// The embedded MongoDB-compatible server: FerretDB 1.24.2 on SQLite, built once, run as a child process.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
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
