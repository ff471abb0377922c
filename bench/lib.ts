// Small helpers for the benchmark runner.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";
import { request } from "undici";
import { freePort } from "../test/helpers/free-port.js";

/** Runs fn for i in [0, n) with at most `concurrency` in flight. */
export async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

/** A row of the bench's table: a figure beside its baseline of the same run. */
export interface Figure {
  figure: string;
  value: number;
  unit: string;
  baseline?: number;
  baselineName?: string;
  ratio?: number;
  target: string;
  met?: boolean;
  note?: string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ReceiverProcess {
  child: ChildProcess;
  port: number;
  /** A second endpoint (another origin) that answers at once. */
  port2: number;
  hangPort: number;
  url(path: string): string;
  stats(): Promise<{ count: number; distinct: number; byPath: Record<string, number> }>;
  reset(): Promise<void>;
  /** Resolves with the time (performance.now()) at which the receiver had at least `count` requests. */
  waitForCount(count: number, timeoutMs: number): Promise<number>;
  stop(): void;
}

export async function startReceiverProcess(): Promise<ReceiverProcess> {
  const script = fileURLToPath(new URL("./receiver.ts", import.meta.url));
  const child = spawn(process.execPath, ["--conditions=hookwire-source", "--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"] });
  const first = await new Promise<string>((res) => child.stdout!.once("data", (c: Buffer) => res(c.toString())));
  const { port, port2, hangPort } = JSON.parse(first) as { port: number; port2: number; hangPort: number };
  const base = `http://127.0.0.1:${port}`;
  const stats = async () => {
    const res = await request(`${base}/__stats`);
    return (await res.body.json()) as { count: number; distinct: number; byPath: Record<string, number> };
  };
  return {
    child,
    port,
    port2,
    hangPort,
    url: (path) => `${base}${path}`,
    stats,
    async reset() {
      await (await request(`${base}/__reset`, { method: "POST" })).body.dump();
    },
    async waitForCount(count, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const s = await stats();
        if (s.count >= count) return performance.now();
        if (performance.now() > deadline) throw new Error(`receiver got ${s.count} of ${count} requests in ${timeoutMs} ms`);
        await sleep(20);
      }
    },
    stop: () => child.kill("SIGTERM"),
  };
}

/** Resident set size of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
  return kb / 1024;
}

/** CPU seconds (user + system) a process has used so far, from /proc; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    // The command may hold spaces and parentheses: the fields start after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ, 100 on Linux)
  } catch {
    return 0;
  }
}

/**
 * CPU of some processes from now on: `perUnit(n)` is each one's µs of CPU since, per unit of `n` done. A name may
 * stand for several processes (a server's workers), whose CPU is summed.
 */
export function cpuMeter<K extends string>(pids: Record<K, number | number[]>): { perUnit(n: number): Record<K, number> } {
  const names = Object.keys(pids) as K[];
  const read = (k: K) => ([] as number[]).concat(pids[k]).reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const start = new Map(names.map((k) => [k, read(k)]));
  return {
    perUnit: (n) => Object.fromEntries(names.map((k) => [k, (1e6 * (read(k) - start.get(k)!)) / n])) as Record<K, number>,
  };
}

/**
 * The share of the machine's CPU time its hypervisor gave to others (steal, from /proc/stat) from now
 * until `share()` is called: on a shared host it moves every wall-clock figure, so figures print it.
 */
export function stealMeter(): { share(): number } {
  const read = () => {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    return { steal: f[7] ?? 0, total: f.reduce((a, b) => a + b, 0) };
  };
  const start = read();
  return {
    share() {
      const end = read();
      return end.total > start.total ? (end.steal - start.steal) / (end.total - start.total) : 0;
    },
  };
}

/** The pids of a process's children, from /proc (Linux). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * A server's processes, from /proc: its embedded FerretDB (a child whose command names it) and the rest of its
 * tree, the server itself and any worker processes (HOOKWIRE_WORKERS), whose CPU counts as the server's.
 */
export function serverProcesses(pid: number): { server: number[]; ferretdb: number[] } {
  const server: number[] = [];
  const ferretdb: number[] = [];
  const walk = (p: number, underFerret: boolean) => {
    let comm = "";
    try {
      comm = readFileSync(`/proc/${p}/comm`, "utf8").trim();
    } catch {
      return;
    }
    const ferret = underFerret || /ferret/i.test(comm);
    (ferret ? ferretdb : server).push(p);
    for (const c of childPids(p)) walk(c, ferret);
  };
  walk(pid, false);
  return { server, ferretdb };
}

/** Operations per second of a synchronous function, after a warm-up. */
export function opsPerSecond(fn: () => unknown, iterations: number): number {
  for (let i = 0; i < Math.min(iterations / 10, 5000); i++) fn();
  const t = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return iterations / ((performance.now() - t) / 1000);
}

export async function opsPerSecondAsync(fn: () => Promise<unknown>, iterations: number): Promise<number> {
  for (let i = 0; i < Math.min(iterations / 10, 5000); i++) await fn();
  const t = performance.now();
  for (let i = 0; i < iterations; i++) await fn();
  return iterations / ((performance.now() - t) / 1000);
}

/**
 * Median ops/s of a baseline and a candidate over interleaved rounds, so that a noisy moment of the
 * machine hits both alike rather than whichever ran then.
 */
export function compareOps(baseline: () => unknown, candidate: () => unknown, iterations: number, rounds = 7): { baseline: number; candidate: number } {
  const b: number[] = [];
  const c: number[] = [];
  for (let r = 0; r < rounds; r++) {
    b.push(opsPerSecond(baseline, iterations));
    c.push(opsPerSecond(candidate, iterations));
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { baseline: median(b), candidate: median(c) };
}

/** A FerretDB binary of the caller's choice on a free port of 127.0.0.1, its files in `dir` (for A/B runs of builds). */
export async function startFerretDBBinary(binary: string, dir: string): Promise<{ uri: string; child: ChildProcess }> {
  const port = await freePort();
  mkdirSync(join(dir, "data"), { recursive: true });
  mkdirSync(join(dir, "state"), { recursive: true });
  const child = spawn(
    binary,
    [
      "--handler=sqlite",
      `--sqlite-url=file:${dir}/data/`,
      `--listen-addr=127.0.0.1:${port}`,
      `--state-dir=${dir}/state`,
      "--debug-addr=-",
      "--telemetry=disable",
      "--log-level=error",
    ],
    { stdio: ["ignore", "ignore", "ignore"] },
  );
  const uri = `mongodb://127.0.0.1:${port}/?directConnection=true`;
  for (let i = 0; ; i++) {
    const c = new MongoClient(uri, { serverSelectionTimeoutMS: 300 });
    try {
      await c.db("admin").command({ ping: 1 });
      return { uri, child };
    } catch (err) {
      if (i > 100 || child.exitCode !== null) throw err;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await c.close().catch(() => {});
    }
  }
}

export async function stopFerretDBBinary(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/**
 * The offered rate for `seconds`, open loop: each call's latency counts from when it was due, so a stalled
 * server cannot hide its queueing. Answers the sorted latencies.
 */
export async function openLoop(call: () => Promise<void>, rate: number, seconds: number): Promise<number[]> {
  const n = rate * seconds;
  const latencies: number[] = [];
  const t0 = performance.now();
  const calls: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    calls.push(call().then(() => void latencies.push(performance.now() - due)));
  }
  await Promise.all(calls);
  return latencies.sort((a, b) => a - b);
}
