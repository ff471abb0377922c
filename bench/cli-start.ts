// The CLI's start (issue 26: "a CLI command answers --help in under 300 ms"): `node bin/hookwire.js --help`, as
// a user's `hookwire --help` runs it, from spawn to exit, beside `node -e 0` (Node's own start, the floor no
// command can beat) timed in the same run. The two alternate, so a busy moment of the machine falls on both.
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { percentile, type Figure } from "./lib.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = fileURLToPath(new URL("../bin/hookwire.js", import.meta.url));

/** Milliseconds from spawn to exit of `node ...args`, which must exit 0. */
function timed(args: string[]): number {
  const t = performance.now();
  const res = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "" } });
  const ms = performance.now() - t;
  if (res.status !== 0) throw new Error(`node ${args.join(" ")} exited ${res.status}: ${res.stderr.toString()}`);
  return ms;
}

export function cliStart(opts: { runs: number; record(f: Figure): void }): void {
  // One untimed run of each first: builds dist/ if a source changed since, and reads the files into the page cache.
  timed([BIN, "--help"]);
  timed(["-e", "0"]);
  const help: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    help.push(timed([BIN, "--help"]));
    bare.push(timed(["-e", "0"]));
  }
  help.sort((a, b) => a - b);
  bare.sort((a, b) => a - b);
  for (const [stat, p] of [["median", 50], ["p90", 90]] as const) {
    const value = percentile(help, p);
    const baseline = percentile(bare, p);
    opts.record({
      figure: `CLI start: hookwire --help, ${stat}`,
      value,
      unit: "ms",
      baseline,
      baselineName: "node -e 0",
      ratio: value / baseline,
      target: "< 300 ms",
      met: value < 300,
      ...(stat === "median" ? { note: `node bin/hookwire.js --help, spawn to exit, ${opts.runs} runs alternating with node -e 0; Node ${process.version}; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores (a busy machine slows both)` } : {}),
    });
  }
}
