// The start-up warm-up (HOOKWIRE_WARMUP_MS): before the port opens, Triggers and their deliveries run through the
// real code paths on a private rig, so that V8 has compiled and optimised them before the first caller's request.
// A fresh process answered its first one or two seconds several times slower than the rest (issue 25: p99 23-47 ms,
// max 142-147 ms at 1,000 Triggers/s, against 9-10 ms after): every restart spiked every customer's latency.
//
// What runs is what a caller's Trigger takes, with the parts that are code shared with the server's own and the
// parts that hold state private to the rig:
// - the same classes and functions: the HTTP listener, the RPC adapter with its plain Connect JSON and plain gRPC
//   unary paths and the interceptors, the webhook service and the message use cases, the delivery engine (hold
//   keeper, scheduler, worker, outcomes, health), attempt preparation, signing, and the HTTP sender over undici;
// - private instances of everything with state: an in-memory store (server/store/memory/, which passes the store
//   conformance suite), metrics that no /metrics serves, quotas, compiled schemas, a listener and a receiver on
//   127.0.0.1 port 0, a tenant and key that exist only here, and a logger that writes nowhere.
// So nothing reaches the real store, the counters a scrape reads, the log, a tenant's quotas or any address off
// this machine; the rig is closed before the real port opens. Only the warm-up's own line is logged, at info.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { connect as connectHttp2, constants as h2 } from "node:http2";
import type { AddressInfo } from "node:net";
import { create, fromJson, toBinary } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Pool } from "undici";
import { TriggerRequestSchema, WebhookService } from "@hookwire/sdk/proto";
import type { Config } from "./config.js";
import { wireDelivery } from "./wiring.js";
import { apiKeyAuthenticator } from "./api/http/auth.js";
import { withSpecGrpcMessage } from "./api/http/grpc-message.js";
import { DEFAULT_CONNECTION_LIMITS, listen, type Listener } from "./api/http/listener.js";
import { rpcAdapter } from "./api/http/rpc-adapter.js";
import { errorInterceptor, rpcMetricsInterceptor } from "./api/interceptors.js";
import { webhookService } from "./api/webhook-service.js";
import { parseEgressAllow } from "./domain/egress.js";
import { DEFAULT_ENGINE_OPTIONS } from "./engine/engine.js";
import { HttpSender } from "./engine/http-sender.js";
import { MemoryDatabase, openMemoryStore } from "./store/memory/memory-store.js";
import { createLogger, errorFields, type Logger } from "./telemetry/log.js";
import { HookwireMetrics } from "./telemetry/metrics.js";
import type { CatalogDeps } from "./usecases/catalog.js";
import { CompiledSchemas } from "./usecases/compiled-schemas.js";
import { Quotas } from "./usecases/quotas.js";

/** What the warm-up did, as its log line says. */
export interface WarmupReport {
  ms: number;
  triggers: number;
  delivered: number;
}

/**
 * Triggers enough for V8 to optimise the paths (its optimising compiler takes a function after some thousands of
 * calls); after these the warm-up stops even when time is left, so a fast machine does not spend its whole budget.
 */
const ENOUGH_TRIGGERS = 4000;
/** Calls in flight, half of them per protocol: batches of the sizes a busy server sees (the engine groups what arrives together). */
const IN_FLIGHT = 16;
/** The share of the budget for Triggers; the rest lets their deliveries finish. */
const TRIGGER_SHARE = 0.9;
/**
 * Triggers answered but not yet delivered, at most: the callers wait for the deliveries beyond it, so both halves
 * run through the budget together (on a busy machine the answers outran the deliveries, which the end cut off).
 */
const UNDELIVERED = 4 * IN_FLIGHT;

const TENANT = "warmup";
const EVENT = "warmup.event";

/** A payload of the usual shape and size (nested objects, numbers, strings, an array). */
const payloadOf = (i: number) => ({ order: { id: i, total: "99.90", currency: "EUR", lines: [{ sku: "A-1", qty: 2 }, { sku: "B-7", qty: 1 }] }, customer: `cus_${i % 97}`, note: "warm-up" });

/** The rig's own logger: the server's level (so the same branches run) writing nowhere (so nothing shows). */
const silent = (config: Config): Logger => createLogger(config.logLevel, () => undefined);

/** A loopback receiver answering 200 to every delivery, counting them; `reached(n)` resolves once n have come. */
async function startReceiver(): Promise<{ server: Server; url: string; delivered(): number; reached(n: number): Promise<void> }> {
  let delivered = 0;
  const waiting: Array<{ n: number; resolve: () => void }> = [];
  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    req.resume();
    req.on("end", () => {
      delivered++;
      res.writeHead(200, { "content-length": "2" }).end("ok");
      for (let i = waiting.length - 1; i >= 0; i--) if (waiting[i]!.n <= delivered) waiting.splice(i, 1)[0]!.resolve();
    });
  });
  // Exclusive: in a cluster's worker, port 0 would otherwise be the first process's shared socket, the same for
  // every worker's rig, and for the server's own listener when it too is asked for port 0.
  await new Promise<void>((r) => server.listen({ port: 0, host: "127.0.0.1", exclusive: true }, r));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/warmup`,
    delivered: () => delivered,
    reached: (n) => (n <= delivered ? Promise.resolve() : new Promise((resolve) => waiting.push({ n, resolve }))),
  };
}

/**
 * Runs the warm-up for at most about config.warmupMs (0: not at all) and logs how long it took. Never throws: a failed
 * warm-up leaves the server as it was, only colder, and says so.
 */
export async function warmUp(config: Config, log: Logger): Promise<WarmupReport | undefined> {
  const budgetMs = config.warmupMs;
  if (budgetMs <= 0) return undefined;
  const started = performance.now();
  const closers: Array<() => Promise<unknown>> = [];
  try {
    const report = await run(config, started, budgetMs, closers);
    // Closing is part of what the start waits for.
    await closeAll(closers);
    report.ms = Math.round(performance.now() - started);
    log.info("warm-up done", { ...report, budgetMs });
    return report;
  } catch (err) {
    await closeAll(closers);
    log.warn("warm-up failed: serving without it (the first seconds may be slower)", { ms: Math.round(performance.now() - started), ...errorFields(err) });
    return undefined;
  }
}

async function closeAll(closers: Array<() => Promise<unknown>>): Promise<void> {
  // Last opened, first closed: the clients before the listener, the engine before the sender and receiver.
  for (const close of closers.reverse()) await close().catch(() => undefined);
  closers.length = 0;
}

async function run(config: Config, started: number, budgetMs: number, closers: Array<() => Promise<unknown>>): Promise<WarmupReport> {
  const log = silent(config);
  const metrics = new HookwireMetrics({ processMetrics: false });
  metrics.setTenants([TENANT]);
  const store = openMemoryStore(new MemoryDatabase(), { holdMs: DEFAULT_ENGINE_OPTIONS.holdMs });
  const receiver = await startReceiver();
  closers.push(() => new Promise((r) => receiver.server.close(r)), async () => receiver.server.closeAllConnections());
  const sender = new HttpSender({
    // The receiver is on loopback: allowed here by an allow-list of 127.0.0.1 alone, which also runs the
    // allow-list's checks as a server with HOOKWIRE_EGRESS_ALLOW does. Nothing else is reachable from the rig.
    allowPrivateUrls: true,
    egressAllow: parseEgressAllow("127.0.0.1/32"),
    connectionsPerOrigin: DEFAULT_ENGINE_OPTIONS.maxInFlightPerEndpoint,
    userAgent: "Hookwire/0.1 (warm-up)",
  });
  closers.push(() => sender.destroy());
  // The real limits on payloads and subscriptions; a Trigger rate no warm-up reaches (the rate is still checked).
  const quotas = new Quotas({ ...config.quotas, triggerRate: 10_000_000, triggerBurst: 10_000_000 });
  const catalog: CatalogDeps = { store: store.eventTypes, quotas, schemas: new CompiledSchemas(), maxPayloadBytes: config.maxPayloadBytes };
  // The server's own wiring (app.ts), on the rig's parts: private URLs allowed (its receiver is on loopback) and
  // no egress list but the sender's own.
  const { engine, messages: messageDeps } = wireDelivery({
    store,
    sender,
    quotas,
    catalog,
    metrics,
    log,
    config: { ...config, allowPrivateUrls: true, egressAllow: undefined },
    engineOptions: DEFAULT_ENGINE_OPTIONS,
  });
  engine.start();
  closers.push(() => engine.stop(0));
  const key = `hwk_warmup_${randomBytes(18).toString("base64url")}`;
  const handler = rpcAdapter({
    readMaxBytes: config.maxPayloadBytes + 64 * 1024,
    authenticate: apiKeyAuthenticator([{ tenant: TENANT, key }]),
    publicServices: new Set(),
    log,
    interceptors: [rpcMetricsInterceptor(metrics), errorInterceptor(log, undefined, metrics)],
    metrics,
    routes(router) {
      router.service(
        WebhookService,
        webhookService({
          subscriptions: { store: store.subscriptions, queue: store.queue, health: store.health, allowPrivateUrls: true, delivery: config.delivery, quotas },
          messages: messageDeps,
          catalog,
          portal: { store: store.portalSessions, metrics, publicUrl: undefined },
          metrics,
        }),
      );
    },
  });
  // The default connection limits, not the configured ones: a server allowed few connections or streams per
  // connection (HOOKWIRE_MAX_CONNECTIONS, HOOKWIRE_MAX_STREAMS_PER_CONNECTION) would refuse the rig's callers.
  const listener: Listener = await listen(withSpecGrpcMessage(handler), "127.0.0.1", 0, DEFAULT_CONNECTION_LIMITS, log, true);
  closers.push(() => listener.close(0));
  const base = `http://127.0.0.1:${listener.port}`;
  const authorization = `Bearer ${key}`;

  // The callers are as light as can be (bodies made once, no RPC client library), so that the budget goes to the
  // server's side of each call rather than to its caller's, which shares this thread.
  // Connect JSON over HTTP/1.1 keep-alive (undici), as most callers and the console send it.
  const http1 = new Pool(base, { connections: IN_FLIGHT, pipelining: 1 });
  closers.push(() => http1.destroy());
  const jsonHeaders = { "content-type": "application/json", authorization };
  const connectJson = async (method: string, body: string): Promise<void> => {
    const res = await http1.request({ path: `/hookwire.v1.WebhookService/${method}`, method: "POST", headers: jsonHeaders, body });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`warm-up ${method} answered ${res.statusCode}: ${text.slice(0, 200)}`);
  };
  // gRPC (binary protobuf over HTTP/2, one session), as the SDKs and gRPC clients send it.
  const session = connectHttp2(base);
  session.on("error", () => undefined);
  closers.push(async () => session.destroy());
  const grpcHeaders = {
    [h2.HTTP2_HEADER_METHOD]: "POST",
    [h2.HTTP2_HEADER_PATH]: `/${WebhookService.typeName}/Trigger`,
    "content-type": "application/grpc",
    te: "trailers",
    authorization,
  };
  const grpcCall = (frame: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const stream = session.request(grpcHeaders);
      let status: string | undefined;
      stream.on("response", (headers) => (status = headers["grpc-status"] as string | undefined));
      stream.on("trailers", (trailers) => (status = trailers["grpc-status"] as string | undefined));
      stream.on("data", () => undefined);
      stream.on("error", reject);
      stream.on("close", () => (status === "0" ? resolve() : reject(new Error(`warm-up Trigger over gRPC ended with grpc-status ${status}`))));
      stream.end(frame);
    });
  // A few distinct payloads, each made once per protocol.
  const VARIANTS = 16;
  const jsonBodies = Array.from({ length: VARIANTS }, (_, i) => JSON.stringify({ event: EVENT, payload: payloadOf(i) }));
  const grpcFrames = Array.from({ length: VARIANTS }, (_, i) => {
    const message = toBinary(TriggerRequestSchema, create(TriggerRequestSchema, { event: EVENT, payload: fromJson(ValueSchema, payloadOf(i)) }));
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    return frame;
  });

  await connectJson("Register", JSON.stringify({ url: receiver.url, events: ["warmup.*"] }));
  let triggers = 0;
  const triggerUntil = started + budgetMs * TRIGGER_SHARE;
  const more = () => triggers < ENOUGH_TRIGGERS && performance.now() < triggerUntil;
  // The wait for deliveries ends with the Trigger share of the budget, whatever has arrived (one timer for all).
  let windowTimer: NodeJS.Timeout | undefined;
  const windowEnds = new Promise<void>((r) => (windowTimer = setTimeout(r, Math.max(0, triggerUntil - performance.now()))));
  closers.push(async () => clearTimeout(windowTimer));
  const paced = (i: number) => Promise.race([receiver.reached(i - UNDELIVERED), windowEnds]);
  const viaConnect = async () => {
    while (more()) {
      const i = triggers++;
      await connectJson("Trigger", jsonBodies[i % VARIANTS]!);
      await paced(i);
    }
  };
  const viaGrpc = async () => {
    while (more()) {
      const i = triggers++;
      await grpcCall(grpcFrames[i % VARIANTS]!);
      await paced(i);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, (_, n) => (n % 2 === 0 ? viaConnect() : viaGrpc())));
  // The deliveries finish within the budget (or are cut off with the rig when it runs out).
  const until = started + budgetMs;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([receiver.reached(triggers), new Promise((r) => (timer = setTimeout(r, Math.max(0, until - performance.now()))))]);
  clearTimeout(timer);
  return { ms: 0, triggers, delivered: receiver.delivered() };
}
