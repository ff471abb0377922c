// The cluster's primary: with HOOKWIRE_WORKERS above 1, `npm start` forks that many worker processes, each a whole
// server on the one port (node:cluster deals connections round-robin), all sharing the store as separate processes
// on one database always could (holds, takeovers). The primary keeps what must be one: the data folder's lock, the
// embedded FerretDB, the development and sealing keys (sent to each worker), the subscriptions' rate limits
// (shared-pacer.ts), the relay of delivery states to the workers whose watchers (WatchDeliveries) need another
// worker's, the metrics gathering, and the stop.
//
// A worker that dies is started again with backoff. Nothing it accepted is lost: its Triggers were stored before
// they were answered, and the new worker releases the dead one's holds as it starts (app.ts, deadLocalHolder), so
// its deliveries are taken at once rather than when their holds run out.
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry } from "prom-client";
import type { ApiKey } from "../config.js";
import { errorFields, type Logger } from "../telemetry/log.js";
import { PaceGrants } from "./shared-pacer.js";
import { isMessage, type HelloMessage, type MetricsRequest, type ReadyMessage, type StartMessage, type States, type ToWorker, type Watching, type WriteRefused } from "./messages.js";

export interface WorkersOptions {
  workers: number;
  /** Each worker's V8 heap limit in MB (--max-old-space-size). */
  maxHeapMb: number;
  mongodbUri: string;
  apiKeys: ApiKey[];
  encryptionKeys: Buffer[];
  /** How long a stopping worker may take (its own grace, then its store's close) before it is killed. */
  stopWaitMs: number;
  log: Logger;
}

export interface Workers {
  port: number;
  /** The workers' process ids, in the order they were started. */
  pids(): number[];
  /** Stops every worker gracefully (each hands back what it holds), killing any that outlasts stopWaitMs. */
  close(): Promise<void>;
}

/** Restarts of a dying worker wait this long, doubling while it keeps dying, up to the cap. */
const RESTART_FIRST_MS = 250;
const RESTART_MAX_MS = 30_000;
/** A worker that ran this long before dying starts the backoff afresh. */
const RESTART_STABLE_MS = 60_000;

function tell(worker: Worker, message: ToWorker): void {
  if (worker.isConnected()) worker.send(message);
}

/** Forks the workers and resolves once every one listens; rejects if one exits before it does. */
export function startWorkers(o: WorkersOptions): Promise<Workers> {
  const start: StartMessage = { type: "hookwire:start", mongodbUri: o.mongodbUri, apiKeys: o.apiKeys, encryptionKeys: o.encryptionKeys.map((k) => k.toString("base64")) };
  // Structured clone rather than JSON: relayed delivery states keep their dates.
  // Each worker's heap limit replaces any the first process was given.
  const execArgv = [...process.execArgv.filter((a) => !a.startsWith("--max-old-space-size")), `--max-old-space-size=${o.maxHeapMb}`];
  cluster.setupPrimary({ serialization: "advanced", execArgv });
  const aggregator = new AggregatorRegistry();
  // Workers with watchers open, and what each worker was last told about relaying its delivery states.
  const watching = new Set<Worker>();
  const relaying = new Map<Worker, boolean>();
  const tellRelays = () => {
    for (const w of live) {
      const on = [...watching].some((other) => other !== w);
      if (relaying.get(w) === on) continue;
      relaying.set(w, on);
      tell(w, { type: "hookwire:relay", on });
    }
  };
  const grants = new PaceGrants();
  const live = new Set<Worker>();
  let stopping = false;
  let port = 0;
  let failures = 0;

  const fork = (onReady: (m: ReadyMessage) => void, onEarlyExit: (why: string) => void): Worker => {
    const worker = cluster.fork();
    const forkedAt = Date.now();
    let ready = false;
    live.add(worker);
    worker.on("message", (m: unknown) => {
      if (grants.request(m, (answer) => tell(worker, answer))) {
        // a rate-limited line's token: answered now or when the line's bucket has it
      } else if (isMessage<States>(m, "hookwire:states")) {
        for (const other of watching) if (other !== worker) tell(other, m);
      } else if (isMessage<Watching>(m, "hookwire:watching")) {
        if (m.watching) watching.add(worker);
        else watching.delete(worker);
        tellRelays();
      } else if (isMessage<WriteRefused>(m, "hookwire:write-refused")) {
        // One database: what one worker found, every worker's health must say.
        for (const other of live) if (other !== worker) tell(other, m);
      } else if (isMessage<HelloMessage>(m, "hookwire:hello")) {
        tell(worker, start);
      } else if (isMessage<ReadyMessage>(m, "hookwire:ready")) {
        ready = true;
        onReady(m);
      } else if (isMessage<MetricsRequest>(m, "hookwire:metrics-request")) {
        aggregator.clusterMetrics().then(
          (text) => tell(worker, { type: "hookwire:metrics-answer", id: m.id, text }),
          (err: unknown) => tell(worker, { type: "hookwire:metrics-answer", id: m.id, error: err instanceof Error ? err.message : String(err) }),
        );
      }
    });
    worker.on("exit", (code, signal) => {
      live.delete(worker);
      watching.delete(worker);
      relaying.delete(worker);
      tellRelays();
      if (stopping) return;
      const why = signal ? `signal ${signal}` : `code ${code}`;
      if (!ready) return onEarlyExit(why);
      // What it held is taken over at once by a worker that is still up (its replacement would release it too, but
      // only once started).
      const heir = [...live].find((w) => w.isConnected());
      if (heir && worker.process.pid) tell(heir, { type: "hookwire:worker-died", pid: worker.process.pid });
      const delay = replaceLater(Date.now() - forkedAt >= RESTART_STABLE_MS);
      o.log.warn("worker exited; starting another", { pid: worker.process.pid, exit: why, restartInMs: delay });
    });
    return worker;
  };

  /**
   * Starts a replacement after the backoff, which doubles with each death in a row (`afresh`: the one that died had
   * run long enough to count as well, so the backoff starts over); answers the wait.
   */
  const replaceLater = (afresh: boolean): number => {
    failures = afresh ? 0 : failures + 1;
    const delay = Math.min(RESTART_MAX_MS, RESTART_FIRST_MS * 2 ** failures);
    setTimeout(replace, delay).unref();
    return delay;
  };

  const replace = (): void => {
    if (stopping) return;
    const worker = fork(
      (m) => o.log.info("worker ready", { pid: worker.process.pid, owner: m.owner }),
      (why) => {
        // A replacement that cannot start (the store is down, say) is retried with the same backoff.
        o.log.warn("worker failed to start; trying again", { pid: worker.process.pid, exit: why, restartInMs: replaceLater(false) });
      },
    );
  };

  const close = async (): Promise<void> => {
    stopping = true;
    const exits = [...live].map((w) => new Promise<void>((res) => (w.isDead() ? res() : w.once("exit", () => res()))));
    for (const w of live) tell(w, { type: "hookwire:stop" });
    const killer = setTimeout(() => {
      for (const w of live) {
        o.log.warn("worker did not stop in time: killed", { pid: w.process.pid });
        w.process.kill("SIGKILL");
      }
    }, o.stopWaitMs);
    await Promise.all(exits);
    clearTimeout(killer);
  };

  return new Promise<Workers>((resolve, reject) => {
    let waiting = o.workers;
    for (let i = 0; i < o.workers; i++) {
      fork(
          (m) => {
            port = m.port;
            if (--waiting === 0) resolve({ port, pids: () => [...live].map((w) => w.process.pid ?? 0), close });
          },
          (why) => {
            if (waiting === 0) return;
            waiting = -1;
            o.log.error("a worker exited before it listened; stopping the others", { exit: why });
            void close().then(() => reject(new Error(`a worker process exited before it listened (${why}); its error is above`)), (err: unknown) => {
              o.log.error("stopping the workers failed", errorFields(err));
              reject(err instanceof Error ? err : new Error(String(err)));
            });
          },
      );
    }
  });
}
