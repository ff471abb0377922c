// Wires config, store, delivery engine and RPC handlers into a listening server.
import { apiKeyAuthenticator } from "./api/http/auth.js";
import { metricsRoute, type MetricsSource } from "./api/http/metrics-route.js";
import { consoleRoute } from "./api/http/console-route.js";
import { portalRoute } from "./api/http/portal-route.js";
import { plainRoutes } from "./api/http/plain-routes.js";
import { openapiRoute } from "./api/http/openapi-route.js";
import { rpcAdapter } from "./api/http/rpc-adapter.js";
import { PublicStreams } from "./api/http/public-streams.js";
import type { ApiKey, Config } from "./config.js";
import { DeliveryEngine, DEFAULT_ENGINE_OPTIONS, type EngineOptions } from "./engine/engine.js";
import { HttpSender } from "./engine/http-sender.js";
import type { LinePacer } from "./engine/pacer.js";
import { withSpecGrpcMessage } from "./api/http/grpc-message.js";
import { listen } from "./api/http/listener.js";
import { errorFields, type Logger } from "./telemetry/log.js";
import { HookwireMetrics } from "./telemetry/metrics.js";
import { Health } from "./gen/grpc/health/v1/health_pb.js";
import { healthService } from "./api/health.js";
import { errorInterceptor, PUBLIC_SERVICES, rpcMetricsInterceptor, tracingInterceptor } from "./api/interceptors.js";
import { reflectionServices } from "./api/reflection.js";
import { webhookService } from "./api/webhook-service.js";
import { file_hookwire_v1_webhook_service, WebhookService } from "@hookwire/sdk/proto";
import { file_grpc_health_v1_health } from "./gen/grpc/health/v1/health_pb.js";
import { deadLocalHolder, openStore } from "./store/open.js";
import { SecretBox } from "./domain/secret-box.js";
import { DEFAULT_RETENTION, RetentionSweeper } from "./engine/retention-sweeper.js";
import { systemClock, type DeliveryQueue, type WriteFaultRelay } from "./ports.js";
import { Quotas } from "./usecases/quotas.js";
import type { CatalogDeps } from "./usecases/catalog.js";
import { CompiledSchemas } from "./usecases/compiled-schemas.js";
import { portalSessionOf, type PortalDeps } from "./usecases/portal.js";
import { warmUp } from "./warmup.js";
import { wireDelivery } from "./wiring.js";
import { tracedStore } from "./tracing.js";
import type { Traces } from "./telemetry/traces.js";

export interface Hookwire {
  port: number;
  engine: DeliveryEngine;
  /** Releases the holds of this host's dead processes (a worker killed beside this one) and takes their work now. */
  releaseDeadHolds(): Promise<void>;
  close(): Promise<void>;
}

export interface AppOptions {
  config: Config;
  mongodbUri: string;
  apiKeys: ApiKey[];
  /** Seal the secrets the store keeps; the first seals, all open. */
  encryptionKeys: Buffer[];
  log: Logger;
  /** Set when this process is one of several workers on the port (server/cluster/worker.ts). */
  worker?: {
    /** What /metrics answers: every worker's metrics, gathered by the primary, rather than this one's. */
    metrics(local: HookwireMetrics): MetricsSource;
    /** The subscriptions' rate limits, kept once for all workers by the primary. */
    pacer: LinePacer;
    /** Connects this worker's write health with the others' (one database, one answer). */
    writes(relay: WriteFaultRelay): void;
  };
}

/** Room for the protobuf framing and the other fields around the largest accepted payload. */
const REQUEST_OVERHEAD_BYTES = 64 * 1024;

export const USER_AGENT = "Hookwire/0.1 (+webhook delivery)";

/**
 * The engine's settings: each tenant's shares as configured, and totals that are what the shares add up to
 * (unless HOOKWIRE_MAX_IN_FLIGHT is set), so that every tenant's full share fits beside the others'.
 */
export function engineOptionsFor(config: Config, tenants: number): EngineOptions {
  const { maxInFlight, ...rest } = config.engine;
  const opts: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS, ...rest };
  // The limits are the server's, whatever its workers: each worker keeps its even part of every one (at least 1),
  // so an endpoint gets no more attempts at once, and the server holds no more in memory, with more workers.
  const part = (n: number) => Math.max(1, Math.ceil(n / config.workers));
  opts.maxInFlightPerTenant = part(opts.maxInFlightPerTenant);
  opts.maxInFlightPerEndpoint = part(opts.maxInFlightPerEndpoint);
  opts.maxHeldPerTenant = part(opts.maxHeldPerTenant);
  opts.maxHeldPerEndpoint = part(opts.maxHeldPerEndpoint);
  opts.bodyCacheBytes = Math.floor(opts.bodyCacheBytes / config.workers);
  opts.maxInFlight = maxInFlight !== undefined ? part(maxInFlight) : opts.maxInFlightPerTenant * Math.max(1, tenants);
  opts.maxHeld = opts.maxHeldPerTenant * Math.max(1, tenants);
  return opts;
}

/**
 * Before the engine takes anything: the holds of processes of this host that provably died (a kill -9 and a
 * restart on the same database) are released at once, so their work is taken now, not once their holds run
 * out (HOOKWIRE_LEASE_MS). Whose holds those are is judged by deadLocalHolder alone. A failure only leaves
 * the holds to run out, as they would without this.
 */
async function releaseDeadHolds(queue: DeliveryQueue, log: Logger): Promise<void> {
  try {
    const released = await queue.releaseDeadHolders((holder) => deadLocalHolder(holder, queue.holder));
    if (released.holders.length > 0) log.info("released the holds of dead processes", { ...released, owner: queue.holder });
  } catch (err) {
    log.warn("releasing the holds of dead processes failed; their holds run out as they stand", errorFields(err));
  }
}

/**
 * Traces, when OTEL_* asks for them (config.ts): the OpenTelemetry SDK is loaded here, by import(), and nowhere
 * else, so a server without traces never loads it. Each process that serves (each worker) exports its own spans.
 */
async function startTraces(config: Config, log: Logger): Promise<Traces | undefined> {
  if (!config.tracing) return undefined;
  const { startTracing } = await import("./telemetry/otel.js");
  const traces = await startTracing(config.tracing);
  log.info("traces on: exporting spans over OTLP", { protocol: config.tracing.protocol, pid: process.pid });
  return traces;
}

export async function startHookwire({ config, mongodbUri, apiKeys, encryptionKeys, log, worker }: AppOptions): Promise<Hookwire> {
  const engineOptions = engineOptionsFor(config, apiKeys.length);
  // One set of metrics for this server, handed to every part that counts something.
  const metrics = new HookwireMetrics();
  metrics.setTenants(apiKeys.map((k) => k.tenant));
  const traces = await startTraces(config, log);
  const opened = await openStore(mongodbUri, config.database, log, new SecretBox(encryptionKeys), {
    metrics,
    holdMs: engineOptions.holdMs,
    layout: config.storeLayout,
    subscriptionCacheMs: config.subscriptionCacheMs,
  });
  // A span per store write while traces are on; off, the store itself.
  const store = traces ? tracedStore(opened, traces) : opened;
  store.watchSubscriptionChanges();
  worker?.writes(store.writes);
  const sender = new HttpSender({
    allowPrivateUrls: config.allowPrivateUrls,
    egressAllow: config.egressAllow,
    // Lines are per tenant and subscription, not per origin: two tenants (or subscriptions) on one origin must not
    // wait for each other's connections, so the pool is bounded only by what the scheduler lets be in flight.
    connectionsPerOrigin: engineOptions.maxInFlight,
    userAgent: USER_AGENT,
  });
  // One per process: the quotas counted in memory (watches, the Trigger rate) are this process's.
  const quotas = new Quotas(config.quotas);
  // One set of compiled schemas per process, for every tenant (compiled-schemas.ts).
  const catalog: CatalogDeps = { store: store.eventTypes, quotas, schemas: new CompiledSchemas(), maxPayloadBytes: config.maxPayloadBytes };
  const { engine, messages: messageDeps } = wireDelivery({ store, sender, quotas, catalog, metrics, log, config, engineOptions, pacer: worker?.pacer, traces });
  await releaseDeadHolds(store.queue, log);
  engine.start();
  metrics.watchEngine(() => engine.stats);
  metrics.watchPending((cap) => store.log.countPending(cap));
  const retention = new RetentionSweeper(
    store.retention,
    store.recoveries,
    systemClock,
    log,
    { ...DEFAULT_RETENTION, retentionMs: config.retentionMs, intervalMs: config.retentionSweepMs },
    store.portalSessions,
  );
  const portal: PortalDeps = { store: store.portalSessions, metrics, publicUrl: config.publicUrl };
  retention.start();
  const stopping = new AbortController();
  const served = [WebhookService.typeName, Health.typeName];
  const reflection = reflectionServices([file_hookwire_v1_webhook_service, file_grpc_health_v1_health], [
    ...served,
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
  ]);
  for (const [svc] of reflection) PUBLIC_SERVICES.add(svc.typeName);
  PUBLIC_SERVICES.add(Health.typeName);
  const handler = rpcAdapter({
    readMaxBytes: config.maxPayloadBytes + REQUEST_OVERHEAD_BYTES,
    // API keys at once; a portal session's token ("hwp_…") by one read of the store, each call.
    authenticate: apiKeyAuthenticator(apiKeys, {
      session: (token) => portalSessionOf(portal, token),
      refused: () => metrics.portalCallRefused("token"),
      failed: (err) => {
        metrics.storeError("rpc");
        void store.writes.failed(err);
        log.warn("store unavailable", { procedure: "portal session check", ...errorFields(err) });
      },
    }),
    publicServices: PUBLIC_SERVICES,
    log,
    // Plain HTTP GETs on the same port, no API key: /metrics (unless off; HOOKWIRE_METRICS_TOKEN when set), the web
    // console's files (its calls carry the operator's key) and the customer portal's (its calls carry a portal
    // session's token; framed only by HOOKWIRE_PORTAL_ORIGINS), and the API's OpenAPI document (/openapi.yaml, .json).
    fallback: plainRoutes(
      ...(config.metrics ? [metricsRoute(worker?.metrics(metrics) ?? metrics, config.metricsToken)] : []),
      consoleRoute(),
      portalRoute(config.portalOrigins),
      openapiRoute(),
    ),
    publicStreams: new PublicStreams(config.publicStreams),
    // The key is checked by the adapter itself, before a body is read; handlers find the caller in the context.
    // Off, nothing is measured per call: the metrics interceptor is not there at all.
    // The tracing interceptor, first, only while traces are on.
    interceptors: [
      ...(traces ? [tracingInterceptor(traces)] : []),
      ...(config.metrics ? [rpcMetricsInterceptor(metrics)] : []),
      errorInterceptor(log, store.writes, metrics),
    ],
    metrics: config.metrics ? metrics : undefined,
    routes(router) {
      // SERVING needs both: the store answers, and it has not refused a write that a probe has not since made.
      router.service(Health, healthService(async () => store.writes.writable && (await store.ping()), [WebhookService.typeName], stopping.signal));
      for (const [svc, impl] of reflection) router.service(svc, impl as never);
      router.service(
        WebhookService,
        webhookService({
          subscriptions: { store: store.subscriptions, queue: store.queue, health: store.health, allowPrivateUrls: config.allowPrivateUrls, egressAllow: config.egressAllow, delivery: config.delivery, quotas },
          messages: messageDeps,
          catalog,
          portal,
          metrics,
          watchBuffer: config.watchBuffer,
        }),
      );
    },
  });
  // The hot paths compiled and optimised on a private rig before the first caller comes (HOOKWIRE_WARMUP_MS).
  await warmUp(config, log);
  const listener = await listen(withSpecGrpcMessage(handler), config.host, config.port, config.connections, log);
  // A worker's primary says "hookwire listening" once every worker is (server/cluster/primary.ts).
  if (!worker) log.info("hookwire listening", { host: config.host, port: listener.port, protocols: ["grpc", "connect", "grpc-web"], owner: engine.owner });
  return {
    port: listener.port,
    engine,
    async releaseDeadHolds() {
      await releaseDeadHolds(store.queue, log);
      engine.lookNow();
    },
    async close() {
      stopping.abort();
      // One grace for both: calls in flight finish while attempts in flight do.
      await Promise.all([listener.close(config.shutdownGraceMs), engine.stop(config.shutdownGraceMs), retention.stop()]);
      await store.close();
      // The last spans (the outcomes just stored) are exported before the process exits.
      await traces?.shutdown().catch((err: unknown) => log.warn("exporting the last spans failed", errorFields(err)));
    },
  };
}
