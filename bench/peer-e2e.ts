// Hookwire's side of the end-to-end latency comparison with the peers: a receiver and a publisher, each its own
// process built on the shared open loop (../shared/peers/e2e-latency/openloop.cjs), against a server the caller
// has just started. Publish start to first arrival, every event counted from the first (a fresh start is the
// point), by the same code that times Outpost in its runner.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { loadOpenLoop, type PublisherSummary, type ReceiverSummary } from "./openloop.js";

export interface E2eRun {
  pub: PublisherSummary;
  rx: ReceiverSummary;
  /** The shared result line, `hookwire-e2e: rate=… e2e_p99_ms=…`. */
  line: string;
  /** The shared detail lines (schedule, per-second windows, clock probes). */
  details: string[];
  /** Every accepted event arrived before the drain limit. */
  complete: boolean;
}

const script = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));

/** A bench process run with tsx, its stdout read line by line. */
function tsxProcess(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; next(timeoutMs: number): Promise<string | undefined> } {
  const child = spawn(process.execPath, ["--import", "tsx", script(name), ...args], { env, stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    child,
    // undefined when the time is up or the process ended without a line.
    async next(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs)));
      const line = await Promise.race([lines.next().then((r) => (r.done ? undefined : (r.value as string))), late]);
      clearTimeout(timer);
      return line;
    },
  };
}

/**
 * One open-loop run against the server on `port` (tenant key `key`): its one subscription (to this run's
 * receiver) is registered here, then `rate` Triggers a second for `seconds` go out on the shared clock.
 */
export async function hookwireOpenLoop(opts: { openloop: string; port: number; key: string; rate: number; seconds: number }): Promise<E2eRun> {
  const ol = loadOpenLoop(opts.openloop);
  // RATE and DURATION_S are read by the shared code in each process; MAX_INFLIGHT and DRAIN_S pass through
  // from the caller's environment, as they reach the peer's runner.
  const env = { ...process.env, RATE: String(opts.rate), DURATION_S: String(opts.seconds) };
  const config = ol.openLoopConfig(env)!;
  const receiver = tsxProcess("e2e-receiver.ts", [opts.openloop, String(config.n)]);
  try {
    const first = await receiver.next(60_000);
    if (!first) throw new Error("bench/e2e-receiver.ts did not start");
    const rxPort = (JSON.parse(first) as { port: number }).port;
    const res = await request(`http://127.0.0.1:${opts.port}/hookwire.v1.WebhookService/Register`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${opts.key}` },
      body: JSON.stringify({ url: `http://127.0.0.1:${rxPort}/peer-e2e`, events: ["peer.*"] }),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`Register answered ${res.statusCode}: ${text}`);
    const publisher = tsxProcess("e2e-publisher.ts", [opts.openloop, String(opts.port), opts.key, String(rxPort)], env);
    const summary = await publisher.next(opts.seconds * 1000 + 120_000);
    if (!summary) throw new Error("bench/e2e-publisher.ts ended without its summary");
    const pub = JSON.parse(summary) as PublisherSummary;
    // The rest may still be on its way: at most DRAIN_S more after the last answer, as in the peer's runner.
    const complete = (await receiver.next(config.drainS * 1000)) === "done";
    const rx = (await (await request(`http://127.0.0.1:${rxPort}/__e2e`)).body.json()) as ReceiverSummary;
    return { pub, rx, line: ol.e2eLine("hookwire", pub, rx), details: ol.detailLines(pub, rx, pub.probes), complete };
  } finally {
    receiver.child.kill("SIGTERM");
  }
}
