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
import { percentile, sleep, stealMeter, type Figure } from "./lib.js";

export interface ColdOptions {
  /** Starts a fresh server (its own database) with these extra settings; `spawned` is when its process was asked for. */
  hookwire(env: Record<string, string>): Promise<{ server: RunningServer }>;
  key: string;
  rate: number;
  seconds: number;
  rounds: number;
  record(f: Figure): void;
}

interface Round {
  startMs: number;
  answer: number[];
  delivery: number[];
  /** Deliveries of the Triggers due in the first second alone. */
  firstSecond: number[];
  steal: number;
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
  await http.close();
  await server.stop("SIGKILL");
  receiver.closeAllConnections();
  receiver.close();
  if (got < n) throw new Error(`cold start: ${got} of ${n} deliveries arrived`);
  const delivery = due.map((d, i) => arrived[i]! - d);
  const firstSecond = delivery.slice(0, opts.rate);
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  return { startMs, answer: sorted(answer), delivery: sorted(delivery), firstSecond: sorted(firstSecond), steal: share };
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
        `  round ${r + 1}, ${label}: listening after ${res.startMs.toFixed(0)} ms; Trigger answers ${fmt(res.answer)}; deliveries ${fmt(res.delivery)}; first second's deliveries ${fmt(res.firstSecond)}; steal ${(100 * res.steal).toFixed(0)} %\n`,
      );
    }
  }
  // Each figure: the worst round's (a tail figure's median over two rounds would hide the bad one).
  const worst = (rounds: Round[], pick: (r: Round) => number) => Math.max(...rounds.map(pick));
  const what = `${opts.rate}/s open loop for ${opts.seconds} s from a fresh server's first Trigger (Connect JSON, undici; receiver on loopback), worst of ${opts.rounds} rounds`;
  const rows: Array<[string, (r: Round) => number]> = [
    ["cold start: delivery latency p99", (r) => percentile(r.delivery, 99)],
    ["cold start: delivery latency max", (r) => r.delivery[r.delivery.length - 1]!],
    ["cold start: first second's delivery p99", (r) => percentile(r.firstSecond, 99)],
    ["cold start: Trigger answer p99", (r) => percentile(r.answer, 99)],
    ["cold start: Trigger answer max", (r) => r.answer[r.answer.length - 1]!],
  ];
  for (const [figure, pick] of rows) {
    const value = worst(warm, pick);
    const baseline = worst(cold, pick);
    opts.record({ figure, value, unit: "ms", baseline, baselineName: "no warm-up", ratio: value / baseline, target: "figure", note: what });
  }
  const start = (rounds: Round[]) => Math.max(...rounds.map((r) => r.startMs));
  opts.record({ figure: "cold start: spawn to listening", value: start(warm), unit: "ms", baseline: start(cold), baselineName: "no warm-up", ratio: start(warm) / start(cold), target: "figure", note: "node + tsx start, store opened, warm-up (default HOOKWIRE_WARMUP_MS) or none; the slowest round" });
}
