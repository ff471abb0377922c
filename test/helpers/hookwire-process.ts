// The real Hookwire server (server/main.ts, built into dist/) as a child process, as `npm start` runs it. No vitest here,
// so the benchmarks start servers the same way the tests do.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The server as `npm start` runs it: built by scripts/build.mjs (the test run's global setup builds it when stale). */
const MAIN = fileURLToPath(new URL("../../dist/server/main.mjs", import.meta.url));
/** Node's flags as package.json's start script gives them (test/unit/start-flags.test.ts keeps the two the same). */
export const START_FLAGS = ["--enable-source-maps", "--max-old-space-size=1024"];
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface RunningServer {
  port: number;
  baseUrl: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and waits for the process to exit; answers the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export type Env = Record<string, string | undefined>;

/**
 * Every server a test or bench starts delivers to this machine only: after the caller's own environment
 * (so a stray HOOKWIRE_EGRESS_ALLOW there cannot widen it), before the test's (egress tests narrow it).
 */
export const LOOPBACK_ONLY = "127.0.0.0/8,::1/128";

/**
 * One server process unless workers are asked for (HOOKWIRE_WORKERS in the caller's environment runs every
 * server so, or a test's env sets it): tests and benches start many servers, and a cluster's forks would
 * multiply their start-up.
 */
export function spawnHookwire(env: Env, execArgv: string[] = []): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const full: Env = { HOOKWIRE_WORKERS: "1", ...process.env, HOOKWIRE_EGRESS_ALLOW: LOOPBACK_ONLY, HOOKWIRE_PORT: "0", HOOKWIRE_HOST: "127.0.0.1", ...env };
  for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k];
  // The Node running the tests (process.execPath), not whichever is first on PATH: a run on another Node line
  // (.ci/run puts Node 24 first on PATH) tests the server on that line too.
  const child = spawn(process.execPath, [...execArgv, ...START_FLAGS, MAIN], { cwd: ROOT, env: full, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  return { child, output: () => out, exited };
}

/** Spawns the server and resolves once it listens (the port comes from its log line). */
export async function startHookwire(env: Env, execArgv: string[] = []): Promise<RunningServer> {
  const { child, output, exited } = spawnHookwire(env, execArgv);
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time:\n${output()}`)), 60_000);
    const check = () => {
      const m = /"msg":"hookwire listening".*?"port":(\d+)/.exec(output());
      if (m?.[1]) {
        clearTimeout(timer);
        child.stdout?.off("data", check);
        resolvePort(Number(m[1]));
      }
    };
    child.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output()}`));
    });
  });
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}
