// Hookdeck Outpost, the peer the bench runs beside Hookwire, through its shared runner
// (../shared/peers/outpost/bench.sh, outside this repo). Its binaries are built outside the repo too: how is
// in ../shared/peers/outpost/README.md, never here. This module only finds them and runs the runner.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("..", import.meta.url));

/**
 * The shared peers folder: `--peers-dir=DIR`, else HOOKWIRE_PEERS_DIR, else `../shared/peers` beside the
 * repository (one checkout's parent holds it, so worktrees beside the main one find it too).
 */
export function peersDir(argv: string[] = process.argv): string {
  const flag = argv.find((a) => a.startsWith("--peers-dir="))?.slice("--peers-dir=".length);
  return resolve(flag || process.env.HOOKWIRE_PEERS_DIR || join(REPO, "..", "shared", "peers"));
}

/** Where the runner expects what is built outside the repo: `$OUTPOST_SCRATCH`, else the temp folder (as `mktemp -u`). */
export function outpostScratch(): string {
  return process.env.OUTPOST_SCRATCH || tmpdir();
}

/** The runner and what it needs; `missing` lists the paths that are not there (empty: the peer can run). */
export function outpostSetup(dir = peersDir()): { benchSh: string; missing: string[] } {
  const benchSh = join(dir, "outpost", "bench.sh");
  const scratch = outpostScratch();
  const needed = [benchSh, join(scratch, "outpost-bin", "outpost"), join(scratch, "outpost-bin", "outpost-server"), join(scratch, "outpost-data", "pg", "PG_VERSION")];
  return { benchSh, missing: needed.filter((p) => !existsSync(p)) };
}

/** One run's result line (`outpost: k=v …` or `outpost-e2e: k=v …`) as numbers, with how the run ended. */
export interface OutpostResult {
  line: string;
  fields: Record<string, number>;
  /** 0: complete; 3: the runner gave up at its time limit (the line is still printed). */
  code: number | null;
  /** The runner's run folder (its logs stay there). */
  runDir: string;
  /** The runner's last stderr lines, for a failure's message. */
  tail: string;
}

/**
 * Runs `bash bench.sh N` (closed loop) or, with `open`, `RATE=… DURATION_S=… bash bench.sh` (open loop):
 * private PostgreSQL, Redis, RabbitMQ and Outpost on loopback in a private network namespace, all stopped
 * by the runner before it prints. Rejects when no result line came.
 */
export function runOutpost(benchSh: string, n: number, open?: { rate: number; seconds: number }): Promise<OutpostResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.RATE; // a stray RATE in the caller's environment would turn a closed-loop run into an open one
  if (open) Object.assign(env, { RATE: String(open.rate), DURATION_S: String(open.seconds) });
  const child = spawn("bash", [benchSh, String(n)], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => {
    err += c.toString();
    if (err.length > 200_000) err = err.slice(-100_000); // the runner's narration; only its end is kept
  });
  const prefix = open ? "outpost-e2e: " : "outpost: ";
  return new Promise((resolvePromise, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      const tail = err.trim().split("\n").slice(-15).join("\n");
      const line = out.trim().split("\n").reverse().find((l) => l.startsWith(prefix));
      if (!line) return reject(new Error(`${benchSh} printed no "${prefix.trim()}" line (exit ${code}):\n${tail}`));
      const fields: Record<string, number> = {};
      for (const [, k, v] of line.slice(prefix.length).matchAll(/(\S+?)=(\S+)/g)) fields[k!] = Number(v);
      const runDir = /run dir:? (\S+)/.exec(err.split("\n").reverse().find((l) => /run dir/.test(l)) ?? "")?.[1] ?? "";
      resolvePromise({ line, fields, code, runDir, tail });
    });
  });
}
