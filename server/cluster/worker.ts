// A worker process of the cluster (server/cluster/primary.ts forks it by running server/main.ts again): it waits
// for what the primary decided, then runs the whole server (store client, engine, RPCs) on the shared port. It
// never touches the data folder or FerretDB: the primary owns both. It stops when the primary says so, when the
// primary is gone (its IPC channel closes, even after a kill -9), or on SIGTERM (the primary then starts another).
import { AggregatorRegistry } from "prom-client";
import { startHookwire, type Hookwire } from "../app.js";
import { loadConfig } from "../config.js";
import { createLogger, errorFields, type Logger } from "../telemetry/log.js";
import type { HookwireMetrics } from "../telemetry/metrics.js";
import { isMessage, type MetricsAnswer, type RelayStates, type StartMessage, type States, type ToPrimary, type WorkerDied, type WriteRefused } from "./messages.js";
import type { Delivery } from "../ports.js";
import type { NotifierRelay } from "../engine/notifier.js";
import type { MetricsSource } from "../api/http/metrics-route.js";
import { SharedPacer } from "./shared-pacer.js";

/** How long a scrape waits for the primary to gather every worker's metrics (prom-client's own limit is 5 s). */
const METRICS_WAIT_MS = 6000;

function send(message: ToPrimary): void {
  process.send?.(message);
}

/**
 * /metrics answered by whichever worker the scrape reached: the primary gathers every worker's registry
 * (prom-client's AggregatorRegistry; counters summed), so a scrape sees the whole server, not one worker.
 */
function clusterMetrics(local: HookwireMetrics): MetricsSource {
  // Constructed once in each worker, it answers the primary's gathering requests with this registry.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([local.registry]);
  let next = 0;
  const waiting = new Map<number, (answer: MetricsAnswer) => void>();
  process.on("message", (m: unknown) => {
    if (isMessage<MetricsAnswer>(m, "hookwire:metrics-answer")) waiting.get(m.id)?.(m);
  });
  return {
    contentType: local.contentType,
    text: () =>
      new Promise<string>((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error("the primary did not gather the workers' metrics in time"));
        }, METRICS_WAIT_MS);
        waiting.set(id, (answer) => {
          clearTimeout(timer);
          waiting.delete(id);
          if (answer.text !== undefined) resolve(answer.text);
          else reject(new Error(answer.error ?? "no metrics"));
        });
        send({ type: "hookwire:metrics-request", id });
      }),
  };
}

/**
 * WatchDeliveries streams of one worker see every worker's delivery states: this worker says whether it has
 * watchers, passes its states on while the primary says another worker has, and tells its watchers the states
 * relayed to it. States go in batches, one message per turn of the event loop.
 */
function relayStates(app: Hookwire): void {
  const batch: Delivery[] = [];
  const forward = (doc: Delivery) => {
    if (batch.push(doc) === 1) setImmediate(() => send({ type: "hookwire:states", docs: batch.splice(0) }));
  };
  const relay: NotifierRelay = { watching: (watching) => send({ type: "hookwire:watching", watching }) };
  process.on("message", (m: unknown) => {
    if (isMessage<RelayStates>(m, "hookwire:relay")) relay.forward = m.on ? forward : undefined;
    else if (isMessage<States>(m, "hookwire:states")) for (const doc of m.docs) app.engine.relayedState(doc);
  });
  app.engine.relayStates(relay);
}

export function runWorker(): void {
  const config = loadConfig();
  const log: Logger = createLogger(config.logLevel);
  let app: Hookwire | undefined;
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info("worker stopping", { why, pid: process.pid });
    try {
      await app?.close();
    } catch (err) {
      log.error("worker shutdown failed", errorFields(err));
    }
    process.exit(0);
  };
  // A Ctrl-C reaches the whole foreground process group, workers included: the primary alone decides the stop,
  // so that it happens once, in order (workers first, FerretDB last).
  process.on("SIGINT", () => undefined);
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("disconnect", () => void stop("the primary is gone"));
  const pacer = new SharedPacer(send);
  process.on("message", (m: unknown) => {
    if (pacer.receive(m)) return;
    if (isMessage<StartMessage>(m, "hookwire:start") && app === undefined && !stopping) {
      startHookwire({
        config,
        mongodbUri: m.mongodbUri,
        apiKeys: m.apiKeys,
        encryptionKeys: m.encryptionKeys.map((k) => Buffer.from(k, "base64")),
        log,
        worker: {
          metrics: clusterMetrics,
          pacer,
          writes(relay) {
            relay.onRefused((fault) => send({ type: "hookwire:write-refused", fault }));
            process.on("message", (w: unknown) => {
              if (isMessage<WriteRefused>(w, "hookwire:write-refused")) relay.heard(w.fault);
            });
          },
        },
      }).then(
        (started) => {
          app = started;
          if (stopping) return void started.close().finally(() => process.exit(0));
          relayStates(started);
          send({ type: "hookwire:ready", port: started.port, owner: started.engine.owner });
        },
        (err: unknown) => {
          process.stderr.write(`hookwire worker: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
          process.exit(1);
        },
      );
    } else if (isMessage<WorkerDied>(m, "hookwire:worker-died")) {
      void app?.releaseDeadHolds();
    } else if (isMessage(m, "hookwire:stop")) {
      void stop("the primary stops");
    }
  });
  send({ type: "hookwire:hello" });
}
