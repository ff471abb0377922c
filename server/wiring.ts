// The delivery side's wiring (engine, attempt preparation, the endpoints and message use cases on it): one piece
// for the server (app.ts) and the warm-up's private rig (warmup.ts), so the rig runs exactly the server's wiring.
import type { Config } from "./config.js";
import { DeliveryEngine, type EngineOptions } from "./engine/engine.js";
import type { LinePacer } from "./engine/pacer.js";
import { attemptPreparer } from "./engine/prepare.js";
import type { Sender } from "./engine/sender.js";
import type { Dispatch, StorePorts } from "./ports.js";
import type { Logger } from "./telemetry/log.js";
import type { HookwireMetrics } from "./telemetry/metrics.js";
import type { Traces } from "./telemetry/traces.js";
import type { CatalogDeps } from "./usecases/catalog.js";
import { endpointEvents } from "./usecases/endpoints.js";
import { detachedDispatch } from "./tracing.js";
import type { MessageDeps } from "./usecases/messages.js";
import type { Quotas } from "./usecases/quotas.js";

/** What the delivery side is wired from: a store, a sender, and what the server (or the warm-up's rig) configured. */
export interface DeliveryWiring {
  store: StorePorts;
  sender: Sender;
  quotas: Quotas;
  catalog: CatalogDeps;
  metrics: HookwireMetrics;
  log: Logger;
  config: Pick<Config, "delivery" | "maxPayloadBytes" | "allowPrivateUrls" | "egressAllow" | "disable">;
  engineOptions: EngineOptions;
  pacer?: LinePacer | undefined;
  /** The server's traces when they are on (the warm-up's rig never has any: its spans would be noise). */
  traces?: Traces | undefined;
}

/** The delivery engine and the message use cases on it. */
export function wireDelivery(w: DeliveryWiring): { engine: DeliveryEngine; messages: MessageDeps } {
  const { store, config, log, metrics } = w;
  // The message use cases on a dispatch: the engine's, for the API and for the endpoints use case alike.
  const messageDepsOn = (engine: Dispatch): MessageDeps => ({
    messages: store.messages,
    queue: store.queue,
    log: store.log,
    sendSecrets: store.sendSecrets,
    subscriptions: store.subscriptions,
    recoveries: store.recoveries,
    engine,
    defaults: config.delivery,
    maxPayloadBytes: config.maxPayloadBytes,
    allowPrivateUrls: config.allowPrivateUrls,
    quotas: w.quotas,
    egressAllow: config.egressAllow,
    metrics,
    catalog: w.catalog,
  });
  const engine = new DeliveryEngine(
    {
      queue: store.queue,
      messages: store.messages,
      deliveries: store.log,
      sender: w.sender,
      prepare: attemptPreparer(store.subscriptions, store.sendSecrets),
      log,
      metrics,
      health: store.health,
      pacer: w.pacer,
      traces: w.traces,
      // What endpoints' outcomes mean is the endpoints use case's; it triggers operational events through the engine.
      endpoints: (dispatch) =>
        endpointEvents({ subscriptions: store.subscriptions, health: store.health, messages: messageDepsOn(dispatch), rule: config.disable, log, metrics }),
    },
    w.engineOptions,
  );
  return { engine, messages: messageDepsOn(w.traces ? detachedDispatch(engine, w.traces) : engine) };
}

