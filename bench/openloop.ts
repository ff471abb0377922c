// The shared open-loop code (../shared/peers/e2e-latency/openloop.cjs, outside this repo), loaded from where
// it lies and typed for the parts Hookwire's side uses. It is required, never copied: every system in the
// end-to-end latency comparison is driven and timed by the same file.
import { createRequire } from "node:module";
import type { Agent } from "node:http";

/** The open loop's settings, from RATE / DURATION_S / MAX_INFLIGHT / DRAIN_S. */
export interface OpenLoopConfig {
  rate: number;
  durationS: number;
  maxInflight: number;
  drainS: number;
  n: number;
  lateMs: number;
}

export interface CallResult {
  ok: boolean;
  status: number;
  error: string | null;
}

/** The publisher's summary (runOpenLoop's, with the clock probes added). */
export interface PublisherSummary {
  rate: number;
  n: number;
  offered: number;
  accepted: number;
  failed: number;
  last_end_ms: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  probes?: Record<string, unknown>;
  [more: string]: unknown;
}

export interface Distribution {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The receiver's summary (E2eRecorder.summary()). */
export interface ReceiverSummary {
  delivered: number;
  e2e_ms: Distribution;
  e2e_steady_ms: Distribution;
  [more: string]: unknown;
}

export interface E2eRecorder {
  delivered: number;
  record(body: Buffer, t: number): boolean;
  summary(): ReceiverSummary;
}

export interface OpenLoop {
  now(): number;
  openLoopConfig(env?: NodeJS.ProcessEnv): OpenLoopConfig | null;
  runOpenLoop(options: {
    rate: number;
    n: number;
    maxInflight: number;
    lateMs?: number;
    giveUpAtMs?: number;
    send(k: number, t0: number, done: (r: CallResult) => void, sched: number): void;
  }): Promise<PublisherSummary>;
  postJson(agent: Agent, port: number, path: string, headers: Record<string, string>, body: string, okStatuses: number[], done: (r: CallResult) => void, timeoutMs?: number): void;
  probeClock(port: number, count?: number): Promise<Record<string, unknown>>;
  postExpect(port: number, n: number): Promise<void>;
  handleProbe(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse): boolean;
  E2eRecorder: new (n: number, envelope: "hookwire") => E2eRecorder;
  e2eLine(system: string, pub: PublisherSummary, rx: ReceiverSummary): string;
  detailLines(pub: PublisherSummary, rx: ReceiverSummary, probes?: Record<string, unknown>): string[];
}

/** Loads openloop.cjs from its shared path (absolute). */
export function loadOpenLoop(path: string): OpenLoop {
  return createRequire(import.meta.url)(path) as OpenLoop;
}
