// Traces through the OpenTelemetry SDK (docs/tracing.md). Loaded only by import() when OTEL_* asks for traces
// (config.ts): nothing else in the server imports an OpenTelemetry package, so a server without traces loads none.
// The SDK reads its own standard variables: the OTLP endpoint and headers, the sampler (OTEL_TRACES_SAMPLER,
// parentbased_always_on by default), the batch processor's timings (OTEL_BSP_*), OTEL_RESOURCE_ATTRIBUTES.
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter } from "@opentelemetry/sdk-trace-node";
import { readFileSync } from "node:fs";
import type { Delivery } from "../domain/model.js";
import type { AttemptEnd, AttemptSpan, RpcSpan, Traces, WriteParent } from "./traces.js";

export interface TracingOptions {
  protocol: "http/protobuf" | "http/json";
}

/** Hookwire's version, for service.version (the build keeps import.meta.url the source file's). */
function serviceVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** The W3C header alone: the caller's baggage is not carried on to customers' endpoints. */
const w3c = new W3CTraceContextPropagator();

/** Reads a traceparent from the one-entry carrier it was written to. */
const fromText = {
  keys: () => ["traceparent"],
  get: (carrier: { traceparent: string }, key: string) => (key === "traceparent" ? carrier.traceparent : undefined),
};

/** The context a stored traceparent names (the root when it names none, or is malformed). */
function contextOf(traceparent: string | undefined): Context {
  return traceparent === undefined ? ROOT_CONTEXT : w3c.extract(ROOT_CONTEXT, { traceparent }, fromText);
}

/** A context's span as a traceparent, undefined when it holds no valid span. */
function traceparentOf(ctx: Context): string | undefined {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, { set: (c, k, v) => void (c[k] = v) });
  return carrier.traceparent;
}

/** An endpoint's URL as a span shows it: without credentials, query or fragment (tokens often travel there). */
function shownUrl(url: string): { full: string; address?: string; port?: number } {
  try {
    const u = new URL(url);
    const port = u.port === "" ? (u.protocol === "https:" ? 443 : 80) : Number(u.port);
    return { full: `${u.protocol}//${u.host}${u.pathname}`, address: u.hostname, port };
  } catch {
    return { full: "" };
  }
}

async function exporterFor(protocol: TracingOptions["protocol"]): Promise<SpanExporter> {
  // Each exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT and _COMPRESSION itself.
  if (protocol === "http/json") return new (await import("@opentelemetry/exporter-trace-otlp-http")).OTLPTraceExporter();
  return new (await import("@opentelemetry/exporter-trace-otlp-proto")).OTLPTraceExporter();
}

/**
 * Starts the SDK for this process (each worker of a cluster exports its own spans) and answers the server's
 * Traces. Registers the global tracer provider and the AsyncLocalStorage context manager, so that a store write
 * made while an RPC's handler runs is a child of that RPC's span.
 */
export async function startTracing(opts: TracingOptions): Promise<Traces> {
  const version = serviceVersion();
  const resource = defaultResource()
    .merge(resourceFromAttributes({ "service.name": "hookwire", "service.version": version, "process.pid": process.pid }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults above.
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(await exporterFor(opts.protocol))] });
  provider.register({ propagator: w3c });
  const tracer = provider.getTracer("hookwire", version);
  return {
    current: () => traceparentOf(context.active()),
    write: (name, parent, run) => traceWrite(tracer, name, parent, run),
    rpc: (service, method, header, attributes) => new TracedRpc(tracer, service, method, header, attributes),
    attempt: (doc) => new TracedAttempt(tracer, doc),
    detached: (fn) => context.with(ROOT_CONTEXT, fn),
    shutdown: () => shutdownWithin(provider, SHUTDOWN_MS),
  };
}

/** How long a stopping server waits for its last spans to be exported: a collector that hangs does not hold the exit. */
const SHUTDOWN_MS = 3000;

async function shutdownWithin(provider: NodeTracerProvider, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`the last spans were not exported within ${ms} ms`)), ms)));
  try {
    await Promise.race([provider.shutdown(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The context a write belongs to, or undefined when it belongs to no trace (it is then not traced). */
function writeContext(parent: WriteParent): Context | undefined {
  if ("call" in parent) {
    const active = context.active();
    return trace.getSpan(active) ? active : undefined;
  }
  return parent.trace === undefined ? undefined : contextOf(parent.trace);
}

async function traceWrite<R>(tracer: Tracer, name: string, parent: WriteParent, run: () => Promise<R>): Promise<R> {
  const ctx = writeContext(parent);
  if (ctx === undefined) return run();
  const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes: { "hookwire.store.write": name.slice("store ".length) } }, ctx);
  try {
    return await context.with(trace.setSpan(ctx, span), run);
  } catch (err) {
    failed(span, err instanceof Error ? err.message : String(err), err instanceof Error ? err.name : "error");
    throw err;
  } finally {
    span.end();
  }
}

function failed(span: Span, message: string, type: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttribute("error.type", type);
}

class TracedAttempt implements AttemptSpan {
  private readonly span: Span;
  readonly traceparent: string;

  constructor(tracer: Tracer, doc: Delivery) {
    const parent = contextOf(doc.trace);
    this.span = tracer.startSpan(
      "POST",
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "http.request.method": "POST",
          "hookwire.tenant": doc.tenant,
          "hookwire.message.id": doc.messageId,
          "hookwire.delivery.id": doc._id,
          "hookwire.subscription.id": doc.subscriptionId,
          "hookwire.event": doc.event,
          "hookwire.attempt": doc.attempts.length + 1,
        },
      },
      parent,
    );
    // A span that is not sampled still has a context of its own: the receiver gets the trace id either way.
    this.traceparent = traceparentOf(trace.setSpan(parent, this.span)) ?? "";
  }

  end(end: AttemptEnd): void {
    const { span } = this;
    const url = shownUrl(end.url);
    span.setAttribute("url.full", url.full);
    if (url.address !== undefined) span.setAttribute("server.address", url.address);
    if (url.port !== undefined) span.setAttribute("server.port", url.port);
    span.setAttribute("hookwire.outcome", end.outcome);
    span.setAttribute("hookwire.sent", end.sent);
    if (end.statusCode !== 0) span.setAttribute("http.response.status_code", end.statusCode);
    if (end.outcome !== "delivered") failed(span, end.error || end.outcome, end.statusCode !== 0 ? String(end.statusCode) : end.sent ? "no_response" : "not_sent");
    span.end();
  }
}

/**
 * gRPC codes that are the server's failure rather than the caller's (OpenTelemetry's RPC conventions): the others
 * (INVALID_ARGUMENT, NOT_FOUND, …) answer the caller as designed and leave the server span's status unset.
 */
const SERVER_FAULTS = new Set([2, 4, 12, 13, 14, 15]);

class TracedRpc implements RpcSpan {
  private readonly span: Span;
  private readonly ctx: Context;

  constructor(tracer: Tracer, service: string, method: string, header: Headers, attributes: Record<string, string>) {
    const parent = w3c.extract(ROOT_CONTEXT, header, headerGetter);
    this.span = tracer.startSpan(`${service}/${method}`, { kind: SpanKind.SERVER, attributes: { "rpc.service": service, "rpc.method": method, ...attributes } }, parent);
    this.ctx = trace.setSpan(parent, this.span);
  }

  run<T>(fn: () => T): T {
    return context.with(this.ctx, fn);
  }

  end(code: number, message?: string): void {
    this.span.setAttribute("rpc.grpc.status_code", code);
    if (SERVER_FAULTS.has(code)) failed(this.span, message ?? "", String(code));
    this.span.end();
  }
}

const headerGetter = {
  keys: (h: Headers) => [...h.keys()],
  get: (h: Headers, key: string) => h.get(key) ?? undefined,
};
