// Configuration from the environment, validated once at start.
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { DISABLE_DEFAULTS, DISABLE_LIMITS, POLICY_DEFAULTS, POLICY_LIMITS, type DeliveryDefaults, type DisableRule } from "./domain/policy.js";
import { ConfigError } from "./domain/errors.js";
import type { ApiKey } from "./api/http/auth.js";
import type { PublicStreamLimits } from "./api/http/public-streams.js";
import type { LogLevel } from "./telemetry/log.js";
import { parseEgressAllow, type EgressAllowList } from "./domain/egress.js";
import { DEFAULT_CONNECTION_LIMITS as CONN, type ConnectionLimits } from "./api/http/listener.js";
import { QUOTA_DEFAULTS, type QuotaLimits } from "./usecases/quotas.js";

export type { ApiKey, DeliveryDefaults, LogLevel, PublicStreamLimits };
export { ConfigError };

export interface Config {
  host: string;
  port: number;
  /**
   * HOOKWIRE_WORKERS: server processes sharing the port and the store (server/cluster/); one per core by
   * default, less one for the embedded FerretDB. 1 runs the server in this process, as before there were workers.
   */
  workers: number;
  /**
   * HOOKWIRE_MAX_HEAP_MB: each worker process's V8 heap limit (node's --max-old-space-size). Far above what a
   * worker keeps, it is there for V8's sizing: under its default limit (a quarter of the machine's memory) V8 lets
   * the garbage of a busy intake pile up to twice the RSS before collecting it.
   */
  maxHeapMb: number;
  /** Undefined means: start the embedded FerretDB. */
  mongodbUri: string | undefined;
  database: string;
  /** Undefined means: none configured, so a development key is generated and kept in the data folder. */
  apiKeys: ApiKey[] | undefined;
  allowPrivateUrls: boolean;
  /** HOOKWIRE_EGRESS_ALLOW: the only networks and hosts deliveries may go to; undefined, no such limit. */
  egressAllow: EgressAllowList | undefined;
  dataDir: string;
  delivery: DeliveryDefaults;
  /** When a subscription whose attempts keep failing is disabled (HOOKWIRE_DISABLE_AFTER_MS, HOOKWIRE_DISABLE_MIN_FAILURES). */
  disable: DisableRule;
  maxPayloadBytes: number;
  logLevel: LogLevel;
  /** Seal secrets at rest: the first seals, all open. Undefined: a key kept in the data folder. */
  encryptionKeys: Buffer[] | undefined;
  /** On SIGTERM, how long attempts in flight may still run before they are cut off and handed back. */
  shutdownGraceMs: number;
  /** How the store lays deliveries out; "auto" by what the database server is. */
  storeLayout: "auto" | "ferretdb" | "mongodb";
  /** How stale another process's subscription changes may be when a Trigger matches (0: read for every Trigger group). */
  subscriptionCacheMs: number;
  /** The embedded FerretDB's debug listener (pprof, metrics), on loopback only; off when unset. */
  ferretdbDebugAddr: string | undefined;
  /** Timeouts and the cap for connections to the shared port. */
  connections: ConnectionLimits;
  /** Outcomes buffered for one WatchDeliveries watcher before it is ended as too far behind. */
  watchBuffer: number;
  /** Serve Prometheus metrics at GET /metrics (and measure RPCs for it). */
  metrics: boolean;
  /** When set, GET /metrics answers only "authorization: Bearer <this>" (HOOKWIRE_METRICS_TOKEN). */
  metricsToken: string | undefined;
  /** HOOKWIRE_PORTAL_ORIGINS: the sites (origins) that may show the customer portal in a frame; empty, none may. */
  portalOrigins: string[];
  /** Streams anyone may open without a key (health Watch, reflection): how many at once, and for how long each. */
  publicStreams: PublicStreamLimits;
  /** Finished messages (with their deliveries) older than this are removed; 0 keeps them for ever. */
  retentionMs: number;
  /** How often retention sweeps. */
  retentionSweepMs: number;
  /** Per-tenant quotas (HOOKWIRE_MAX_SUBSCRIPTIONS, …; server/usecases/quotas.ts). */
  quotas: QuotaLimits;
  /**
   * HOOKWIRE_PUBLIC_URL: the origin callers and browsers reach this server at (behind a proxy), for the
   * portal sessions' urls; undefined, the origin each CreatePortalSession request came to.
   */
  publicUrl: string | undefined;
  /**
   * HOOKWIRE_WARMUP_MS: at most this long before the port opens, Triggers and deliveries run through the hot paths
   * on a private rig (server/warmup.ts) so that the first callers are served as fast as later ones; 0: no warm-up.
   */
  warmupMs: number;
  /**
   * OpenTelemetry traces, when the standard OTEL_* variables ask for them (docs/tracing.md); undefined, none are
   * made and the SDK is never loaded.
   */
  tracing: TracingSettings | undefined;
  /** Delivery engine tuning; what is unset keeps the engine's defaults. */
  engine: {
    holdMs?: number;
    pollMs?: number;
    /** Unset: what the tenants' shares add up to (app.ts), so no tenant's full share leaves another without room. */
    maxInFlight?: number;
    maxInFlightPerTenant?: number;
    maxInFlightPerEndpoint?: number;
    maxHeldPerTenant?: number;
    maxHeldPerEndpoint?: number;
  };
}


type Env = Record<string, string | undefined>;

/**
 * One worker per core, but one core left to the embedded FerretDB when it runs here: on 2 cores with it, two
 * workers delivered 26 % less than one on the peer workload (bench/README.md), the store, the callers and the
 * receiver all wanting the same cores. With MONGODB_URI the store is elsewhere and every core serves.
 */
function defaultWorkers(mongodbUri: string | undefined): number {
  const cores = availableParallelism();
  return mongodbUri === undefined ? Math.max(1, cores - 1) : cores;
}

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name}: "${raw}" is not a whole number`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${name}: ${value} is outside ${min}..${max}`);
  return value;
}

function optionalIntVar(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === "" ? undefined : intVar(env, name, 0, min, max);
}

function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const v = raw.trim().toLowerCase();
  if (v === "true" || v === "1" || v === "yes") return true;
  if (v === "false" || v === "0" || v === "no") return false;
  throw new ConfigError(`${name}: "${raw}" is not true or false`);
}

/** How spans are exported: OTLP over HTTP, as protobuf (the standard's default) or JSON. */
export interface TracingSettings {
  protocol: "http/protobuf" | "http/json";
}

const SAMPLERS = ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"];

/**
 * Traces are on when OTEL_TRACES_EXPORTER names otlp, or an OTLP endpoint is set (and neither OTEL_SDK_DISABLED
 * nor OTEL_TRACES_EXPORTER=none says otherwise). Unlike the SDK's own default (otlp to localhost:4318), unset
 * means off: a server nobody asked to trace loads no SDK and spends nothing on spans. The variables the SDK reads
 * itself (endpoints, headers, the sampler) are checked here too where a typo would otherwise pass quietly.
 */
function tracingVar(env: Env): TracingSettings | undefined {
  const value = (name: string) => (env[name] ?? "").trim();
  if (value("OTEL_SDK_DISABLED").toLowerCase() === "true") return undefined;
  const exporters = value("OTEL_TRACES_EXPORTER").toLowerCase().split(",").map((e) => e.trim()).filter((e) => e !== "");
  const other = exporters.find((e) => e !== "otlp" && e !== "none");
  if (other) throw new ConfigError(`OTEL_TRACES_EXPORTER: "${other}" is not supported; use otlp (or none)`);
  const endpoint = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") || value("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (exporters.includes("none") || (!exporters.includes("otlp") && endpoint === "")) return undefined;
  if (endpoint !== "" && !/^https?:\/\//i.test(endpoint)) throw new ConfigError(`OTEL_EXPORTER_OTLP_ENDPOINT: "${endpoint}" is not an http:// or https:// URL`);
  const protocolName = value("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const protocol = value(protocolName) || "http/protobuf";
  if (protocol !== "http/protobuf" && protocol !== "http/json") {
    throw new ConfigError(`${protocolName}: "${protocol}" is not supported; use http/protobuf (the default) or http/json`);
  }
  const sampler = value("OTEL_TRACES_SAMPLER");
  if (sampler !== "" && !SAMPLERS.includes(sampler)) throw new ConfigError(`OTEL_TRACES_SAMPLER: "${sampler}" is not one of ${SAMPLERS.join(", ")}`);
  const ratio = value("OTEL_TRACES_SAMPLER_ARG");
  if (sampler.endsWith("traceidratio") && ratio !== "" && !(Number(ratio) >= 0 && Number(ratio) <= 1)) {
    throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG: "${ratio}" is not a ratio between 0 and 1`);
  }
  return { protocol };
}

const TENANT = /^[A-Za-z0-9_.-]{1,64}$/;

export function parseApiKeys(raw: string): ApiKey[] {
  const keys: ApiKey[] = [];
  const seen = new Set<string>();
  for (const item of raw.split(",")) {
    const pair = item.trim();
    if (pair === "") continue;
    const colon = pair.indexOf(":");
    if (colon <= 0 || colon === pair.length - 1) {
      throw new ConfigError(`HOOKWIRE_API_KEYS: "${pair.slice(0, 3)}…" is not a tenant:key pair`);
    }
    const tenant = pair.slice(0, colon);
    const key = pair.slice(colon + 1);
    if (!TENANT.test(tenant)) {
      throw new ConfigError(`HOOKWIRE_API_KEYS: tenant "${tenant}" must be 1-64 letters, digits, '_', '.' or '-'`);
    }
    if (/\s/.test(key)) throw new ConfigError(`HOOKWIRE_API_KEYS: the key of tenant "${tenant}" contains white space`);
    if (seen.has(key)) throw new ConfigError(`HOOKWIRE_API_KEYS: a key is listed twice (tenant "${tenant}")`);
    seen.add(key);
    keys.push({ tenant, key });
  }
  if (keys.length === 0) throw new ConfigError("HOOKWIRE_API_KEYS: is set but lists no tenant:key pair");
  return keys;
}

function hostVar(env: Env): string {
  const host = (env.HOOKWIRE_HOST ?? "").trim() || "127.0.0.1";
  if (!/^[A-Za-z0-9.:_-]+$/.test(host)) throw new ConfigError(`HOOKWIRE_HOST: "${host}" is not a host name or address`);
  return host;
}

function mongoUriVar(env: Env): string | undefined {
  const uri = env.MONGODB_URI?.trim();
  if (!uri) return undefined;
  if (!/^mongodb(\+srv)?:\/\/.+/.test(uri)) {
    throw new ConfigError('MONGODB_URI: must start with "mongodb://" or "mongodb+srv://"');
  }
  return uri;
}

/** Base64 of 32 bytes each, comma-separated: the first seals, the others only open (for rotation). */
function encryptionKeysVar(env: Env): Buffer[] | undefined {
  const raw = env.HOOKWIRE_ENCRYPTION_KEY?.trim();
  if (!raw) return undefined;
  return raw.split(",").map((item, i) => {
    const text = item.trim();
    const key = Buffer.from(text, "base64");
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || key.length !== 32) {
      throw new ConfigError(`HOOKWIRE_ENCRYPTION_KEY: key ${i + 1} is not base64 of 32 bytes (make one with: openssl rand -base64 32)`);
    }
    return key;
  });
}

function connectionsVar(env: Env): ConnectionLimits {
  const limits: ConnectionLimits = {
    headersTimeoutMs: intVar(env, "HOOKWIRE_HEADERS_TIMEOUT_MS", CONN.headersTimeoutMs, 100, 3_600_000),
    requestTimeoutMs: intVar(env, "HOOKWIRE_REQUEST_TIMEOUT_MS", CONN.requestTimeoutMs, 100, 3_600_000),
    idleTimeoutMs: intVar(env, "HOOKWIRE_IDLE_TIMEOUT_MS", CONN.idleTimeoutMs, 100, 3_600_000),
    maxConnections: intVar(env, "HOOKWIRE_MAX_CONNECTIONS", CONN.maxConnections, 1, 1_000_000),
    maxStreamsPerConnection: intVar(env, "HOOKWIRE_MAX_STREAMS_PER_CONNECTION", CONN.maxStreamsPerConnection, 1, 100_000),
  };
  // Node's HTTP/1.1 server refuses a request timeout shorter than the headers timeout.
  if (limits.requestTimeoutMs < limits.headersTimeoutMs) {
    throw new ConfigError(`HOOKWIRE_REQUEST_TIMEOUT_MS: ${limits.requestTimeoutMs} is shorter than HOOKWIRE_HEADERS_TIMEOUT_MS (${limits.headersTimeoutMs})`);
  }
  return limits;
}

function quotasVar(env: Env): QuotaLimits {
  const triggerRate = intVar(env, "HOOKWIRE_TRIGGER_RATE", QUOTA_DEFAULTS.triggerRate, 0, 10_000_000);
  return {
    maxSubscriptions: intVar(env, "HOOKWIRE_MAX_SUBSCRIPTIONS", QUOTA_DEFAULTS.maxSubscriptions, 1, 100_000_000),
    maxSubscriptionsPerOwner: intVar(env, "HOOKWIRE_MAX_SUBSCRIPTIONS_PER_OWNER", QUOTA_DEFAULTS.maxSubscriptionsPerOwner, 1, 100_000_000),
    // Every Trigger matches its event against each active subscription's patterns: this bounds that work.
    maxEventsPerSubscription: intVar(env, "HOOKWIRE_MAX_EVENTS_PER_SUBSCRIPTION", QUOTA_DEFAULTS.maxEventsPerSubscription, 1, 1024),
    // Each process keeps, per tenant, the names of the event types that have a schema: this bounds that.
    maxEventTypes: intVar(env, "HOOKWIRE_MAX_EVENT_TYPES", QUOTA_DEFAULTS.maxEventTypes, 1, 1_000_000),
    maxWatchesPerTenant: intVar(env, "HOOKWIRE_MAX_WATCHES_PER_TENANT", QUOTA_DEFAULTS.maxWatchesPerTenant, 1, 100_000),
    triggerRate,
    // Unset, the burst follows the rate: a second's worth may come at once.
    triggerBurst: intVar(env, "HOOKWIRE_TRIGGER_BURST", Math.max(1, triggerRate), 1, 10_000_000),
  };
}

/** Public streams (no key) are kept well below the connection cap, so that watchers alone (over HTTP/1.1 each
 * holds a connection) cannot take every connection: 64, or half the cap when that is smaller. */
function publicStreamsVar(env: Env, connections: ConnectionLimits): PublicStreamLimits {
  const fallback = Math.min(64, Math.max(1, Math.floor(connections.maxConnections / 2)));
  const max = intVar(env, "HOOKWIRE_MAX_PUBLIC_STREAMS", fallback, 0, 1_000_000);
  if (max >= connections.maxConnections && max > 0) {
    throw new ConfigError(`HOOKWIRE_MAX_PUBLIC_STREAMS: ${max} is not below HOOKWIRE_MAX_CONNECTIONS (${connections.maxConnections}); unauthenticated streams could take every connection`);
  }
  return { max, maxMs: intVar(env, "HOOKWIRE_PUBLIC_STREAM_MAX_MS", 600_000, 1000, 86_400_000) };
}

/** A scraper's own secret: never one of the tenants' API keys, so a tenant's key does not open every tenant's counts. */
function metricsTokenVar(env: Env, apiKeys: readonly ApiKey[] | undefined): string | undefined {
  const raw = env.HOOKWIRE_METRICS_TOKEN;
  if (raw === undefined || raw.trim() === "") return undefined;
  const token = raw.trim();
  if (/\s/.test(token)) throw new ConfigError("HOOKWIRE_METRICS_TOKEN: contains white space");
  if (token.length < 16) throw new ConfigError(`HOOKWIRE_METRICS_TOKEN: is ${token.length} characters; use at least 16 (e.g. openssl rand -base64 32)`);
  if (apiKeys?.some((k) => k.key === token)) throw new ConfigError("HOOKWIRE_METRICS_TOKEN: is one of the API keys in HOOKWIRE_API_KEYS; give the scraper a token of its own");
  return token;
}

/**
 * HOOKWIRE_PORTAL_ORIGINS: comma-separated origins ("https://app.example.com", "http://127.0.0.1:3000"), each
 * http(s) with a host and optionally a port, nothing else (no path, wildcard or credentials): they go into the
 * portal's CSP frame-ancestors as their serialized origin.
 */
function portalOriginsVar(env: Env): string[] {
  const out: string[] = [];
  for (const item of (env.HOOKWIRE_PORTAL_ORIGINS ?? "").split(",")) {
    const raw = item.trim();
    if (raw === "") continue;
    const bad = new ConfigError(`HOOKWIRE_PORTAL_ORIGINS: "${raw.slice(0, 100)}" is not an http(s) origin such as https://app.example.com (scheme, host and optional port; no path)`);
    if (!/^https?:\/\/[^/?#@\s]+\/?$/i.test(raw)) throw bad;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw bad;
    }
    // The host as the URL parser wrote it: a DNS name (IDNs in punycode), an IPv4 address, or [IPv6].
    if (!/^(?:[a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/.test(url.hostname)) throw bad;
    if (!out.includes(url.origin)) out.push(url.origin);
  }
  return out;
}

function storeLayoutVar(env: Env): Config["storeLayout"] {
  const raw = (env.HOOKWIRE_STORE ?? "").trim() || "auto";
  if (raw === "auto" || raw === "ferretdb" || raw === "mongodb") return raw;
  throw new ConfigError(`HOOKWIRE_STORE: "${raw}" is not one of auto, ferretdb, mongodb`);
}

function ferretdbDebugAddrVar(env: Env): string | undefined {
  const raw = (env.HOOKWIRE_FERRETDB_DEBUG_ADDR ?? "").trim();
  if (raw === "") return undefined;
  // Its pprof pages need no authentication: loopback only.
  if (!/^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]):\d{1,5}$/.test(raw) || Number(raw.slice(raw.lastIndexOf(":") + 1)) > 65535) {
    throw new ConfigError(`HOOKWIRE_FERRETDB_DEBUG_ADDR: "${raw}" is not a loopback address and port such as 127.0.0.1:8089`);
  }
  return raw;
}

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** HOOKWIRE_RETENTION: a whole number and a unit (30d, 12h, 90m, 45s), or 0 to keep everything. */
function retentionVar(env: Env): number {
  const raw = (env.HOOKWIRE_RETENTION ?? "").trim() || "30d";
  if (raw === "0") return 0;
  const m = /^(\d{1,6})([smhd])$/.exec(raw);
  if (!m || Number(m[1]) === 0) throw new ConfigError(`HOOKWIRE_RETENTION: "${raw}" is not a duration such as 30d, 12h, 90m or 45s (or 0 to keep everything)`);
  return Number(m[1]) * DURATION_UNITS[m[2]!]!;
}

function egressAllowVar(env: Env): EgressAllowList | undefined {
  try {
    return parseEgressAllow(env.HOOKWIRE_EGRESS_ALLOW ?? "");
  } catch (err) {
    throw new ConfigError(`HOOKWIRE_EGRESS_ALLOW: ${(err as Error).message}`);
  }
}

/** An http(s) origin (scheme, host, optional port; a trailing "/" is allowed), answered without the slash. */
function publicUrlVar(env: Env): string | undefined {
  const raw = (env.HOOKWIRE_PUBLIC_URL ?? "").trim();
  if (raw === "") return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // reported below
  }
  const origin = url && (url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password && url.pathname === "/" && !url.search && !url.hash && !raw.endsWith("?") && !raw.endsWith("#");
  if (!url || !origin) throw new ConfigError(`HOOKWIRE_PUBLIC_URL: "${raw.slice(0, 100)}" is not an http(s) origin such as https://hooks.example.com (no path, query or credentials)`);
  return url.origin;
}

function logLevelVar(env: Env): LogLevel {
  const raw = (env.HOOKWIRE_LOG_LEVEL ?? "").trim() || "info";
  if (raw === "debug" || raw === "info" || raw === "warn" || raw === "error") return raw;
  throw new ConfigError(`HOOKWIRE_LOG_LEVEL: "${raw}" is not one of debug, info, warn, error`);
}

export function loadConfig(env: Env = process.env): Config {
  const database = (env.HOOKWIRE_DATABASE ?? "").trim() || "hookwire";
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(database)) {
    throw new ConfigError(`HOOKWIRE_DATABASE: "${database}" must be 1-63 letters, digits, '_' or '-'`);
  }
  const rawKeys = env.HOOKWIRE_API_KEYS;
  const apiKeys = rawKeys === undefined || rawKeys.trim() === "" ? undefined : parseApiKeys(rawKeys);
  const connections = connectionsVar(env);
  return {
    host: hostVar(env),
    port: intVar(env, "HOOKWIRE_PORT", 8080, 0, 65535),
    workers: intVar(env, "HOOKWIRE_WORKERS", defaultWorkers(mongoUriVar(env)), 1, 256),
    maxHeapMb: intVar(env, "HOOKWIRE_MAX_HEAP_MB", 1024, 128, 65_536),
    mongodbUri: mongoUriVar(env),
    database,
    apiKeys,
    allowPrivateUrls: boolVar(env, "HOOKWIRE_ALLOW_PRIVATE_URLS", false),
    egressAllow: egressAllowVar(env),
    dataDir: resolve((env.HOOKWIRE_DATA_DIR ?? "").trim() || ".hookwire"),
    delivery: {
      retries: intVar(env, "HOOKWIRE_RETRIES", POLICY_DEFAULTS.retries, ...POLICY_LIMITS.retries),
      retryDelayMs: intVar(env, "HOOKWIRE_RETRY_DELAY_MS", POLICY_DEFAULTS.retryDelayMs, ...POLICY_LIMITS.retryDelayMs),
      timeoutMs: intVar(env, "HOOKWIRE_TIMEOUT_MS", POLICY_DEFAULTS.timeoutMs, ...POLICY_LIMITS.timeoutMs),
    },
    disable: {
      failingForMs: intVar(env, "HOOKWIRE_DISABLE_AFTER_MS", DISABLE_DEFAULTS.failingForMs, ...DISABLE_LIMITS.failingForMs),
      minFailures: intVar(env, "HOOKWIRE_DISABLE_MIN_FAILURES", DISABLE_DEFAULTS.minFailures, ...DISABLE_LIMITS.minFailures),
    },
    maxPayloadBytes: intVar(env, "HOOKWIRE_MAX_PAYLOAD_BYTES", 256 * 1024, 1024, 16 * 1024 * 1024),
    logLevel: logLevelVar(env),
    encryptionKeys: encryptionKeysVar(env),
    shutdownGraceMs: intVar(env, "HOOKWIRE_SHUTDOWN_GRACE_MS", 5000, 0, 600_000),
    storeLayout: storeLayoutVar(env),
    subscriptionCacheMs: intVar(env, "HOOKWIRE_SUBSCRIPTION_CACHE_MS", 0, 0, 10_000),
    ferretdbDebugAddr: ferretdbDebugAddrVar(env),
    connections,
    watchBuffer: intVar(env, "HOOKWIRE_WATCH_BUFFER", 10_000, 1, 1_000_000),
    metrics: boolVar(env, "HOOKWIRE_METRICS", true),
    metricsToken: metricsTokenVar(env, apiKeys),
    publicStreams: publicStreamsVar(env, connections),
    portalOrigins: portalOriginsVar(env),
    retentionMs: retentionVar(env),
    retentionSweepMs: intVar(env, "HOOKWIRE_RETENTION_SWEEP_MS", 60_000, 100, 86_400_000),
    quotas: quotasVar(env),
    publicUrl: publicUrlVar(env),
    warmupMs: intVar(env, "HOOKWIRE_WARMUP_MS", 2500, 0, 60_000),
    tracing: tracingVar(env),
    engine: {
      holdMs: intVar(env, "HOOKWIRE_LEASE_MS", 30_000, 1000, 3_600_000),
      pollMs: intVar(env, "HOOKWIRE_POLL_MS", 1000, 10, 60_000),
      maxInFlight: optionalIntVar(env, "HOOKWIRE_MAX_IN_FLIGHT", 1, 1_000_000),
      maxInFlightPerTenant: intVar(env, "HOOKWIRE_MAX_IN_FLIGHT_PER_TENANT", 512, 1, 100_000),
      maxInFlightPerEndpoint: intVar(env, "HOOKWIRE_MAX_IN_FLIGHT_PER_ENDPOINT", 32, 1, 10_000),
      maxHeldPerTenant: intVar(env, "HOOKWIRE_MAX_HELD_PER_TENANT", 20_000, 1, 10_000_000),
      maxHeldPerEndpoint: intVar(env, "HOOKWIRE_MAX_HELD_PER_ENDPOINT", 5_000, 1, 10_000_000),
    },
  };
}
