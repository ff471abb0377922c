// The cold-start figure (issue 25, "no cold tail"): a fresh server, and from its first Trigger on, an open loop of
// Triggers at a fixed rate for a few seconds; every call counts, none is a warm-up. Measured from outside: each
// Trigger's answer and its delivery's arrival at a receiver, both from when the Trigger was due. Rounds alternate a
// server started with HOOKWIRE_WARMUP_MS=0 (no warm-up: the baseline) and one with the default warm-up, each on a
// fresh database, so the two see the same machine. Also timed: spawn to "hookwire listening" of each.
//
// The receiver runs in this process (loopback), so that an arrival and its due time are read on one clock.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";
import type { RunningServer } from "../test/helpers/hookwire-process.js";
import { readFileSync } from "node:fs";
import { cpuSeconds, percentile, sleep, stealMeter, type Figure } from "./lib.js";

export interface ColdOptions {
  /** Starts a fresh server (its own database) with these extra settings; `spawned` is when its process was asked for. */
  hookwire(env: Record<string, string>): Promise<{ server: RunningServer }>;
  key: string;
  rate: number;
  seconds: number;
  rounds: number;
  /** The run's other processes of its own (FerretDB, receivers): their CPU is not the machine's other load. */
  ownPids: number[];
  record(f: Figure): void;
}

/** CPU seconds every process of the machine used so far (user, nice, system, irq, softirq; from /proc/stat). */
function machineCpuSeconds(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) / 100;
}

/**
 * The CPU that processes outside this run used from now on, in cores: on a machine shared with other work
 * (two cores here), a round during which others were busy is not a figure of the server alone, and says so.
 */
function othersMeter(pids: () => number[]): { cores(): number } {
  const t = performance.now();
  const machine = machineCpuSeconds();
  const ownStart = process.cpuUsage();
  const start = new Map(pids().map((p) => [p, cpuSeconds(p)]));
  return {
    cores() {
      const own = process.cpuUsage(ownStart);
      const ours = (own.user + own.system) / 1e6 + pids().reduce((sum, p) => sum + cpuSeconds(p) - (start.get(p) ?? 0), 0);
      return Math.max(0, machineCpuSeconds() - machine - ours) / ((performance.now() - t) / 1000);
    },
  };
}

interface Round {
  startMs: number;
  /** The server's own "warm-up done" line's figures, when it ran one. */
  warmup: string;
  answer: number[];
  delivery: number[];
  /** Deliveries of the Triggers due in the first second alone. */
  firstSecond: number[];
  /** The slowest delivery of each quarter second, in order: where in the run the tail is. */
  quarters: number[];
  steal: number;
  /** Cores' worth of CPU used by processes outside the run meanwhile. */
  others: number;
}

/** One fresh server, measured from its first Trigger. */
async function round(opts: ColdOptions, env: Record<string, string>): Promise<Round> {
  const due: number[] = [];
  const arrived: number[] = [];
  let got = 0;
  const receiver = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const at = performance.now();
      const i = (JSON.parse(Buffer.concat(chunks).toString()) as { payload: { i: number } }).payload.i;
      if (arrived[i] === undefined) {
        arrived[i] = at;
        got++;
      }
      res.writeHead(200, { "content-length": "2" }).end("ok");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const spawned = performance.now();
  const { server } = await opts.hookwire(env);
  const startMs = performance.now() - spawned;
  const line = /"msg":"warm-up done","ms":(\d+),"triggers":(\d+),"delivered":(\d+)/.exec(server.output());
  const warmup = line ? `warm-up ${line[1]} ms, ${line[2]} Triggers, ${line[3]} delivered` : "no warm-up line";
  const http = new Pool(server.baseUrl, { connections: 64, pipelining: 1 });
  const headers = { "content-type": "application/json", authorization: `Bearer ${opts.key}` };
  const call = async (method: string, body: unknown) => {
    const res = await http.request({ path: `/hookwire.v1.WebhookService/${method}`, method: "POST", headers, body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${method} answered ${res.statusCode}: ${text}`);
  };
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cold`;
  await call("Register", { url, events: ["cold.*"] });
  const steal = stealMeter();
  const others = othersMeter(() => [server.child.pid!, ...opts.ownPids]);
  const n = opts.rate * opts.seconds;
  const answer: number[] = [];
  const calls: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    due[i] = t0 + (i * 1000) / opts.rate;
    const wait = due[i]! - performance.now();
    if (wait > 1) await sleep(wait);
    calls.push(call("Trigger", { event: "cold.created", payload: { i, order: { id: i, total: "99.90", lines: [{ sku: "A-1", qty: 2 }] } } }).then(() => void answer.push(performance.now() - due[i]!)));
  }
  await Promise.all(calls);
  const deadline = performance.now() + 60_000;
  while (got < n && performance.now() < deadline) await sleep(20);
  const share = steal.share();
  const otherCores = others.cores();
  await http.close();
  await server.stop("SIGKILL");
  receiver.closeAllConnections();
  receiver.close();
  if (got < n) throw new Error(`cold start: ${got} of ${n} deliveries arrived`);
  const delivery = due.map((d, i) => arrived[i]! - d);
  const firstSecond = delivery.slice(0, opts.rate);
  const quarter = Math.max(1, Math.round(opts.rate / 4));
  const quarters: number[] = [];
  for (let i = 0; i < delivery.length; i += quarter) quarters.push(Math.max(...delivery.slice(i, i + quarter)));
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  return { startMs, warmup, answer: sorted(answer), delivery: sorted(delivery), firstSecond: sorted(firstSecond), quarters, steal: share, others: otherCores };
}

const fmt = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(1)}, p99 ${percentile(xs, 99).toFixed(1)}, max ${xs[xs.length - 1]!.toFixed(1)} ms`;

/** Rounds without and with the warm-up, alternating; a row per figure, each beside the same run's cold baseline. */
export async function coldStart(opts: ColdOptions): Promise<void> {
  const cold: Round[] = [];
  const warm: Round[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    for (const [into, env, label] of [[cold, { HOOKWIRE_WARMUP_MS: "0" }, "no warm-up"], [warm, {}, "warm-up (default)"]] as const) {
      const res = await round(opts, env);
      into.push(res);
      process.stderr.write(
        `  round ${r + 1}, ${label}: listening after ${res.startMs.toFixed(0)} ms (${res.warmup}); Trigger answers ${fmt(res.answer)}; deliveries ${fmt(res.delivery)}; first second's deliveries ${fmt(res.firstSecond)}; slowest delivery per 250 ms ${res.quarters.map((q) => q.toFixed(0)).join(" ")}; steal ${(100 * res.steal).toFixed(0)} %; other processes ${res.others.toFixed(2)} cores\n`,
      );
    }
  }
  // Each figure: the median round's (every round is printed above; on a shared machine one round can catch
  // another process's burst, which its "other processes" figure shows).
  const median = (rounds: Round[], pick: (r: Round) => number) => rounds.map(pick).sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!;
  const what = `${opts.rate}/s open loop for ${opts.seconds} s from a fresh server's first Trigger (Connect JSON, undici; receiver on loopback), median of ${opts.rounds} rounds`;
  const rows: Array<[string, (r: Round) => number]> = [
    ["cold start: delivery latency p99", (r) => percentile(r.delivery, 99)],
    ["cold start: delivery latency max", (r) => r.delivery[r.delivery.length - 1]!],
    ["cold start: first second's delivery p99", (r) => percentile(r.firstSecond, 99)],
    ["cold start: Trigger answer p99", (r) => percentile(r.answer, 99)],
    ["cold start: Trigger answer max", (r) => r.answer[r.answer.length - 1]!],
  ];
  for (const [figure, pick] of rows) {
    const value = median(warm, pick);
    const baseline = median(cold, pick);
    opts.record({ figure, value, unit: "ms", baseline, baselineName: "no warm-up", ratio: value / baseline, target: "figure", note: what });
  }
  const start = (rounds: Round[]) => median(rounds, (r) => r.startMs);
  opts.record({ figure: "cold start: spawn to listening", value: start(warm), unit: "ms", baseline: start(cold), baselineName: "no warm-up", ratio: start(warm) / start(cold), target: "figure", note: "node start (dist/server/main.mjs), store opened, warm-up (default HOOKWIRE_WARMUP_MS) or none; the median round" });
}
