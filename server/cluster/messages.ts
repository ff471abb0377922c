// What the primary and its worker processes tell each other over the cluster's IPC channel (structured clone:
// delivery states keep their dates). Secrets (API keys, the sealing keys) travel here rather than in a worker's
// environment, which other tools can read (/proc).
import type { ApiKey } from "../config.js";
import type { Delivery, StoreWriteFault } from "../ports.js";

/**
 * Worker → primary, once its listener is in place: a message sent before that would be lost (a forked worker is
 * "online" before its modules have loaded).
 */
export interface HelloMessage {
  type: "hookwire:hello";
}

/** Primary → worker, once, answering its hello: what the primary alone decided (the store's URI, keys from the data folder). */
export interface StartMessage {
  type: "hookwire:start";
  mongodbUri: string;
  apiKeys: ApiKey[];
  /** Base64 of each sealing key, the first seals. */
  encryptionKeys: string[];
}

/** Worker → primary: listening on the shared port, its engine holding work as `owner`. */
export interface ReadyMessage {
  type: "hookwire:ready";
  port: number;
  owner: string;
}

/** Primary → worker: stop gracefully (write outcomes, hand back holds) and exit. */
export interface StopMessage {
  type: "hookwire:stop";
}

/** Worker → primary: the metrics of every worker, for a scrape that reached this one. */
export interface MetricsRequest {
  type: "hookwire:metrics-request";
  id: number;
}

/** Primary → worker: the answer to a MetricsRequest. */
export interface MetricsAnswer {
  type: "hookwire:metrics-answer";
  id: number;
  text?: string;
  error?: string;
}

/** Worker → primary: a token of a rate-limited line, for one attempt (shared-pacer.ts). */
export interface PaceRequest {
  type: "hookwire:pace-request";
  line: string;
  perSecond: number;
}

/** Primary → worker: the token (waitMs 0), or that the ask is queued and its token comes in about waitMs. */
export interface PaceAnswer {
  type: "hookwire:pace-answer";
  line: string;
  waitMs: number;
}

/** Worker → primary, and primary → the other workers: a worker's store refused a write (a full disk, say). */
export interface WriteRefused {
  type: "hookwire:write-refused";
  fault: StoreWriteFault;
}

/** Worker → primary: whether this worker has WatchDeliveries streams (or other watchers) open. */
export interface Watching {
  type: "hookwire:watching";
  watching: boolean;
}

/** Primary → worker: whether another worker watches, so this one's delivery states must be passed on. */
export interface RelayStates {
  type: "hookwire:relay";
  on: boolean;
}

/** Worker → primary → the watching workers: delivery states just stored, for their watchers. */
export interface States {
  type: "hookwire:states";
  docs: Delivery[];
}

/** Primary → one live worker: a worker died; release its holds now, rather than when its replacement starts. */
export interface WorkerDied {
  type: "hookwire:worker-died";
  pid: number;
}

export type ToWorker = StartMessage | StopMessage | MetricsAnswer | PaceAnswer | WriteRefused | RelayStates | States | WorkerDied;
export type ToPrimary = HelloMessage | ReadyMessage | MetricsRequest | PaceRequest | WriteRefused | Watching | States;

/** Messages of this protocol only: prom-client's aggregator shares the channel with its own. */
export function isMessage<T extends { type: string }>(m: unknown, type: T["type"]): m is T {
  return typeof m === "object" && m !== null && (m as { type?: unknown }).type === type;
}
