// The server's Prometheus metrics, served at GET /metrics (api/http/metrics-route.ts). app.ts makes one set
// and hands it to every part that counts something (the engine, the store, the use cases, the API), which
// calls the method named for it (e.g. metrics.endpointDisabled("failing") when disabling an endpoint).
//
// Cardinality stays bounded: tenants come from the configured API keys (any other tenant, such as
// one whose key was removed while its deliveries remain, counts as "other"); RPC methods are the
// routed ones; every other label has a fixed set of values. No subscription, message or URL is ever
// a label: their number has no bound.
//
// The hot paths (every RPC, every attempt) bump label children made once and cached here, never a
// labels object built per call; hot-metrics.ts makes a bump a number increment.
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { HotCounter, HotHistogram, type Inc, type Observe } from "./hot-metrics.js";
import type { DescMethod } from "@bufbuild/protobuf";

export type TriggerOutcome = "accepted" | "repeated" | "refused";
export type FinalOutcome = "delivered" | "failed";
/** "gone": the endpoint answered 410 Gone; "failing": it failed for too long (endpoint health). */
export type DisableReason = "gone" | "failing";
/**
 * Where the store failed: an RPC answered UNAVAILABLE, or the engine's background work. "claim" is taking
 * due work (the port's takeDue): the label keeps the name it was published under, which dashboards know.
 */
export type StoreOperation = "rpc" | "claim" | "renew" | "record" | "prepare";
/**
 * Why a customer portal's call was refused: "token", a token that is forged, altered, expired or revoked
 * (UNAUTHENTICATED); "method", an RPC outside a portal's scope, and "owner", a request naming another
 * owner (PERMISSION_DENIED); "id", an id of another owner's or of the tenant's own (NOT_FOUND).
 */
export type PortalRefusal = "token" | "method" | "owner" | "id";
/** An attempt by its answer's status class; "no_response" covers timeouts, connection errors and attempts never sent. */
export type AttemptClass = "2xx" | "3xx" | "4xx" | "5xx" | "no_response";

/** What the engine holds in memory, read at each scrape (never by counting the store). */
export interface EngineGauges {
  held: number;
  inFlight: number;
  unwritten: number;
}

interface TenantChildren {
  triggers: Record<TriggerOutcome, Inc>;
  deliveries: Record<FinalOutcome, Inc>;
}

interface MethodChildren {
  duration: Observe;
  /** By gRPC code number, made on first use. */
  codes: Array<Inc | undefined>;
  service: string;
  method: string;
}

const OTHER_TENANT = "other";
const ATTEMPT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const RPC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** How long a scrape waits for the store's pending count before answering with the one read before. */
const PENDING_WAIT_MS = 1000;

/** The pending gauge counts at most this many (a count costs what it counts) ... */
export const PENDING_COUNT_CAP = 10_000;
/** ... and at most once in this long, however often it is scraped. */
const PENDING_REFRESH_MS = 5_000;

export class HookwireMetrics {
  readonly registry = new Registry();
  private readonly triggersTotal = new HotCounter(
    this.registry,
    "hookwire_triggers_total",
    "Trigger calls that reached the use case, by tenant and outcome (accepted, repeated idempotency key, refused).",
    ["tenant", "outcome"],
  );
  private readonly deliveriesTotal = new HotCounter(
    this.registry,
    "hookwire_deliveries_total",
    "Deliveries that reached a final outcome in this process, by tenant and outcome (delivered, failed).",
    ["tenant", "outcome"],
  );
  private readonly attemptSeconds = new HotHistogram(
    this.registry,
    "hookwire_attempt_duration_seconds",
    "Delivery attempts by the class of their answer (2xx, 3xx, 4xx, 5xx, no_response): connect to the last byte of the answer.",
    ATTEMPT_BUCKETS,
  );
  private readonly rpcTotal = new HotCounter(
    this.registry,
    "hookwire_rpc_requests_total",
    "RPCs answered, by service, method and gRPC code (every protocol and path, refusals at the door included).",
    ["service", "method", "code"],
  );
  private readonly rpcSeconds = new HotHistogram(this.registry, "hookwire_rpc_duration_seconds", "RPC handling time, by service and method (a server stream: until it ends).", RPC_BUCKETS);
  private readonly retries = new HotCounter(this.registry, "hookwire_retries_scheduled_total", "Failed attempts that scheduled a retry.", []).child({});
  private readonly parked = new HotCounter(
    this.registry,
    "hookwire_deliveries_parked_total",
    "Deliveries left in the store instead of memory because their endpoint or tenant held its share (taken again once it has room).",
    [],
  ).child({});
  // Rare events: prom-client's own counters.
  private readonly disabledTotal = new Counter({
    name: "hookwire_endpoints_disabled_total",
    help: "Subscriptions disabled by this process, by reason (gone: 410 Gone; failing: failed for too long).",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  private readonly storeErrorsTotal = new Counter({
    name: "hookwire_store_errors_total",
    help: "Store operations that failed, by operation (rpc, claim, renew, record, prepare).",
    labelNames: ["operation"],
    registers: [this.registry],
  });

  private readonly portalSessionsTotal = new Counter({
    name: "hookwire_portal_sessions_created_total",
    help: "Customer portal sessions created (CreatePortalSession), by tenant.",
    labelNames: ["tenant"],
    registers: [this.registry],
  });
  private readonly portalRefusedTotal = new Counter({
    name: "hookwire_portal_calls_refused_total",
    help: "Calls with a portal session's token refused, by reason (token: forged, expired or revoked; method: outside a portal's scope; owner: another owner named; id: another owner's id).",
    labelNames: ["reason"],
    registers: [this.registry],
  });

  private engine: (() => EngineGauges) | undefined;
  private countPending: ((cap: number) => Promise<number>) | undefined;
  /** The last read of the store's pending count begun, and when. */
  private pendingRead: { at: number; done: Promise<void> } | undefined;
  /** The last pending count read from the store. */
  private pendingLast: number | undefined;
  private readonly tenants = new Map<string, TenantChildren>();
  private readonly other: TenantChildren;
  private readonly methods = new Map<DescMethod, MethodChildren>();
  private readonly attempts: Record<AttemptClass, Observe>;

  /**
   * `processMetrics: false` leaves out prom-client's process metrics (CPU, memory, event loop lag, GC): they
   * describe the whole process and start observers that live as long as it, so only the one set a server
   * publishes collects them (the start-up warm-up's private set does not; server/warmup.ts).
   */
  constructor(opts: { processMetrics?: boolean } = {}) {
    this.other = this.childrenOf(OTHER_TENANT);
    const h = this.attemptSeconds;
    this.attempts = {
      "2xx": h.child({ outcome: "2xx" }),
      "3xx": h.child({ outcome: "3xx" }),
      "4xx": h.child({ outcome: "4xx" }),
      "5xx": h.child({ outcome: "5xx" }),
      no_response: h.child({ outcome: "no_response" }),
    };
    for (const reason of ["gone", "failing"] satisfies DisableReason[]) this.disabledTotal.inc({ reason }, 0);
    for (const operation of ["rpc", "claim", "renew", "record", "prepare"] satisfies StoreOperation[]) this.storeErrorsTotal.inc({ operation }, 0);
    for (const reason of ["token", "method", "owner", "id"] satisfies PortalRefusal[]) this.portalRefusedTotal.inc({ reason }, 0);
    const self = this;
    // Counted in the store at scrape time (at most every PENDING_REFRESH_MS, up to PENDING_COUNT_CAP), so every
    // process sharing the database answers the whole server's figure: what one process holds in memory is a
    // part of it, and with several workers the parts did not add up to it (a retry due later waits in the
    // store, held by none). Every worker reads the same figure, so the cluster's aggregate is its max.
    new Gauge({
      name: "hookwire_deliveries_pending",
      help: `Deliveries waiting for an attempt (first or retry), of every tenant, counted in the store; at most ${PENDING_COUNT_CAP} (shown when there are more).`,
      registers: [this.registry],
      aggregator: "max",
      async collect() {
        const n = await self.pendingInStore();
        if (n !== undefined) this.set(n);
      },
    });
    new Gauge({
      name: "hookwire_deliveries_held",
      help: "Deliveries this process holds in memory that are waiting for their time or a free slot (its part of the pending).",
      registers: [this.registry],
      collect() {
        const g = self.engine?.();
        this.set(g ? Math.max(0, g.held - g.inFlight) : 0);
      },
    });
    new Gauge({
      name: "hookwire_deliveries_in_flight",
      help: "Delivery attempts this process has in flight.",
      registers: [this.registry],
      collect() {
        this.set(self.engine?.().inFlight ?? 0);
      },
    });
    new Gauge({
      name: "hookwire_outcomes_unwritten",
      help: "Attempt outcomes recorded but not yet stored (grows while the store cannot be written).",
      registers: [this.registry],
      collect() {
        this.set(self.engine?.().unwritten ?? 0);
      },
    });
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** The tenants that get labels of their own: those of the configured API keys. */
  setTenants(tenants: Iterable<string>): void {
    for (const t of tenants) {
      if (this.tenants.has(t)) continue;
      this.tenants.set(t, this.childrenOf(t));
      this.portalSessionsTotal.inc({ tenant: t }, 0);
    }
  }

  portalSessionCreated(tenant: string): void {
    this.portalSessionsTotal.inc({ tenant: this.tenants.has(tenant) ? tenant : OTHER_TENANT });
  }

  portalCallRefused(reason: PortalRefusal): void {
    this.portalRefusedTotal.inc({ reason });
  }

  /** Where the pending gauge is counted at scrape time: the store's count, capped (DeliveryLog.countPending). */
  watchPending(count: (cap: number) => Promise<number>): void {
    this.countPending = count;
  }

  /**
   * The store's pending count, read again once PENDING_REFRESH_MS have passed (scrapes in between share the
   * read); when a read fails, the figure read before it (undefined before any: the gauge keeps its value).
   * A scrape waits for a read at most PENDING_WAIT_MS, then answers with the figure before it: /metrics must
   * answer when the store is slow or down, which is when it is looked at most (and with workers the primary
   * gathers each worker's registry within a bound of its own).
   */
  private async pendingInStore(): Promise<number | undefined> {
    const count = this.countPending;
    if (!count) return 0;
    const now = Date.now();
    if (!this.pendingRead || now - this.pendingRead.at >= PENDING_REFRESH_MS) {
      const done = count(PENDING_COUNT_CAP).then(
        (n) => void (this.pendingLast = n),
        () => undefined, // a failed read leaves the figure before it
      );
      this.pendingRead = { at: now, done };
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.pendingRead.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, PENDING_WAIT_MS)))]);
    clearTimeout(timer);
    return this.pendingLast;
  }

  /** Where the in-memory gauges are read from at scrape time. */
  watchEngine(read: () => EngineGauges): void {
    this.engine = read;
  }

  trigger(tenant: string, outcome: TriggerOutcome): void {
    (this.tenants.get(tenant) ?? this.other).triggers[outcome].inc();
  }

  deliveryFinished(tenant: string, outcome: FinalOutcome): void {
    (this.tenants.get(tenant) ?? this.other).deliveries[outcome].inc();
  }

  attempt(statusCode: number, durationMs: number): void {
    this.attempts[attemptClass(statusCode)].observe(durationMs / 1000);
  }

  retryScheduled(): void {
    this.retries.inc();
  }

  deliveryParked(): void {
    this.parked.inc();
  }

  /** The hook for any code that disables a subscription. */
  endpointDisabled(reason: DisableReason): void {
    this.disabledTotal.inc({ reason });
  }

  storeError(operation: StoreOperation): void {
    this.storeErrorsTotal.inc({ operation });
  }

  /** One RPC answered: its method, gRPC code (0 for OK) and when it started (performance.now()). */
  rpc(method: DescMethod, code: number, startedAt: number): void {
    let m = this.methods.get(method);
    if (!m) {
      const labels = { service: method.parent.typeName, method: method.name };
      m = { ...labels, duration: this.rpcSeconds.child(labels), codes: [] };
      this.methods.set(method, m);
    }
    m.duration.observe((performance.now() - startedAt) / 1000);
    (m.codes[code] ??= this.rpcTotal.child({ service: m.service, method: m.method, code: codeName(code) })).inc();
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private childrenOf(tenant: string): TenantChildren {
    const t = (outcome: TriggerOutcome) => this.triggersTotal.child({ tenant, outcome });
    const d = (outcome: FinalOutcome) => this.deliveriesTotal.child({ tenant, outcome });
    return {
      triggers: { accepted: t("accepted"), repeated: t("repeated"), refused: t("refused") },
      deliveries: { delivered: d("delivered"), failed: d("failed") },
    };
  }
}

export function attemptClass(statusCode: number): AttemptClass {
  if (statusCode >= 200 && statusCode < 300) return "2xx";
  if (statusCode >= 300 && statusCode < 400) return "3xx";
  if (statusCode >= 400 && statusCode < 500) return "4xx";
  if (statusCode >= 500 && statusCode < 600) return "5xx";
  return "no_response";
}

/** gRPC's names for its codes, by number, as other gRPC servers label them. */
const GRPC_CODES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

function codeName(code: number): string {
  return GRPC_CODES[code] ?? "UNKNOWN";
}

