// Where traces (docs/tracing.md) are wired into the server when they are on: a span per store write, put around the
// store's ports in one place rather than in every store, and the engine's dispatch kept out of callers' contexts.
// Off, none of this is used: the server runs on the store and the engine themselves.
import type { Delivery, Dispatch, StorePorts } from "./ports.js";
import type { Traces, WriteParent } from "./telemetry/traces.js";

/** Which trace a write belongs to: the call making it (an RPC's span, active while its handler runs), or a function of its arguments. */
type Parent = "call" | ((...args: never[]) => string | undefined);

/**
 * The writes that are traced, by port. Those a call makes run in its span; an outcome the engine records is in the
 * trace its delivery carries. Housekeeping that belongs to no one call (holds taken, renewed and released, health
 * counters, retention's removals) is not traced: it would open a new trace every few seconds per process.
 */
const WRITES: { [P in keyof StorePorts]?: { [M in keyof StorePorts[P]]?: Parent } } = {
  subscriptions: { insert: "call", update: "call", delete: "call", disable: "call" },
  queue: { accept: "call", add: "call", dropForSubscription: "call", record: (_item: never, next: Delivery) => next.trace },
  sendSecrets: { keep: "call", drop: "call" },
  recoveries: { mark: "call", unmark: "call" },
  health: { restartStreak: "call", drop: "call" },
  eventTypes: { insert: "call", update: "call", delete: "call" },
  portalSessions: { create: "call", revokeOwner: "call" },
};

type AnyFn = (...args: unknown[]) => Promise<unknown>;

/** The store with its writes traced: the same object but for the ports it wraps. */
export function tracedStore<S extends StorePorts>(store: S, traces: Traces): S {
  const out = { ...store };
  for (const [port, methods] of Object.entries(WRITES) as Array<[keyof StorePorts, Record<string, Parent>]>) {
    (out as Record<string, unknown>)[port] = tracedPort(store[port] as object, port, methods, traces);
  }
  return out;
}

function tracedPort<T extends object>(target: T, port: string, methods: Record<string, Parent>, traces: Traces): T {
  const wrapped = new Map<PropertyKey, unknown>();
  for (const [name, parent] of Object.entries(methods)) {
    const original = (target as Record<string, AnyFn>)[name]!;
    const spanName = `store ${port}.${name}`;
    const parentOf = (args: unknown[]): WriteParent => (parent === "call" ? { call: true } : { trace: (parent as (...a: unknown[]) => string | undefined)(...args) });
    // New deliveries carry the context of the call that made them (the RPC's span), for their attempts to come.
    const stamp = port === "queue" && (name === "accept" || name === "add") ? (name === "accept" ? 1 : 0) : -1;
    const finishing = port === "queue" && name === "record";
    wrapped.set(name, (...args: unknown[]) => {
      if (stamp >= 0) stampDeliveries(args[stamp] as Delivery[], traces.current());
      const parent = parentOf(args);
      // A finished delivery has no attempt to come: its log row does not keep the context (55 bytes a row).
      if (finishing) args[1] = withoutTrace(args[1] as Delivery);
      return traces.write(spanName, parent, () => original.apply(target, args));
    });
  }
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, prop) {
      const w = wrapped.get(prop);
      if (w !== undefined) return w;
      const value = Reflect.get(t, prop, t) as unknown;
      if (typeof value !== "function") return value;
      // The port's other methods, called on the port itself (its private state is not the proxy's).
      let b = bound.get(prop);
      if (b === undefined) bound.set(prop, (b = (value as AnyFn).bind(t)));
      return b;
    },
  });
}

function withoutTrace(doc: Delivery): Delivery {
  if (doc.status === "pending" || doc.trace === undefined) return doc;
  const { trace: _trace, ...rest } = doc;
  return rest;
}

function stampDeliveries(deliveries: Delivery[], trace: string | undefined): void {
  if (trace === undefined) return;
  for (const d of deliveries) d.trace = trace;
}

/**
 * The engine's dispatch with each submit made outside any span. Node's context follows timers, so the attempts a
 * Trigger's call starts (and every later timer they set) would otherwise run inside that call's context, and a
 * write the engine made for some other delivery could land in that call's trace. Attempts find their trace in
 * their delivery (Delivery.trace), not in the context they happen to run in.
 */
export function detachedDispatch(engine: Dispatch, traces: Traces): Dispatch {
  return {
    submit: (items, body) => traces.detached(() => engine.submit(items, body)),
    finished: (tenant, id, signal) => engine.finished(tenant, id, signal),
    watch: (listener) => engine.watch(listener),
  };
}
