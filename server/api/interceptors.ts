import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { DomainError, type ErrorKind } from "../domain/errors.js";
import type { StoreFaults, StoreWriteFault } from "../ports.js";
import { errorFields, type Logger } from "../telemetry/log.js";
import type { HookwireMetrics } from "../telemetry/metrics.js";
import type { RpcSpan, Traces } from "../telemetry/traces.js";
import { callerKey, StreamLifetimeOver } from "./context.js";

const CODES: Record<ErrorKind, Code> = {
  invalid: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  failed_precondition: Code.FailedPrecondition,
  permission_denied: Code.PermissionDenied,
  unauthenticated: Code.Unauthenticated,
};

/** What a caller is told when the store refused to write for a reason of its own. */
export function storeWriteFaultMessage(fault: StoreWriteFault): string {
  return fault === "disk_full"
    ? "the database cannot write: its disk is full; the request was not completed, try again once space is freed"
    : "the database cannot write; the request was not completed, try again";
}

/** Every failure as a ConnectError: domain errors keep their message, unexpected ones are logged and hidden. */
/** Where calls the store failed are counted (hookwire_store_errors_total{operation="rpc"}). */
type StoreErrorCount = Pick<HookwireMetrics, "storeError">;

export function toConnectError(err: unknown, log: Logger, procedure: string, faults?: StoreFaults, metrics?: StoreErrorCount): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof DomainError) return new ConnectError(err.message, CODES[err.kind]);
  const fault = faults?.failed(err);
  if (fault === "unreachable") {
    metrics?.storeError("rpc");
    log.warn("store unavailable", { procedure, ...errorFields(err) });
    // A connection lost in the middle of a write may have lost only the answer: say so, rather than "nothing was stored".
    return new ConnectError("the database cannot be reached; the call did not complete, try again (with the same idempotency key, a Trigger stored after all answers its first message)", Code.Unavailable);
  }
  // A full disk is not a bug of ours: UNAVAILABLE (try again, elsewhere or later), and health turns NOT_SERVING.
  if (fault) {
    metrics?.storeError("rpc");
    log.warn("store cannot write", { procedure, fault, ...errorFields(err) });
    return new ConnectError(storeWriteFaultMessage(fault), Code.Unavailable);
  }
  log.error("internal error", { procedure, ...errorFields(err), stack: err instanceof Error ? err.stack : undefined });
  return new ConnectError("internal error", Code.Internal);
}

/** Services callable without a key (health checks, reflection). */
export const PUBLIC_SERVICES = new Set<string>();

export function errorInterceptor(log: Logger, faults?: StoreFaults, metrics?: StoreErrorCount): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const procedure = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      if (res.stream) return { ...res, message: mappedStream(res.message, log, procedure, faults, metrics) };
      log.debug("rpc", { procedure, ms: Math.round(performance.now() - started) });
      return res;
    } catch (err) {
      const ce = toConnectError(err, log, procedure, faults, metrics);
      log.debug("rpc failed", { procedure, code: Code[ce.code], ms: Math.round(performance.now() - started) });
      throw ce;
    }
  };
}

/** A server stream's messages, with an error raised while it runs mapped (and logged) like a unary call's. */
async function* mappedStream<T>(messages: AsyncIterable<T>, log: Logger, procedure: string, faults?: StoreFaults, metrics?: StoreErrorCount): AsyncGenerator<T> {
  try {
    yield* messages;
  } catch (err) {
    const ce = toConnectError(err, log, procedure, faults, metrics);
    // Unexpected errors were logged by toConnectError; a stream ended by a refusal is worth a line too.
    const refusal = err instanceof DomainError || (err instanceof ConnectError && err.code !== Code.Canceled && err.code !== Code.Aborted);
    if (refusal) log.warn("rpc stream failed", { procedure, code: Code[ce.code], message: ce.rawMessage });
    throw ce;
  }
}

/**
 * Counts and times every RPC that reaches the handlers: Connect's handlers and the plain unary paths
 * (api/http/unary-call.ts) run the same interceptor list, so this one place sees every protocol. Placed
 * before the error interceptor, it sees the codes callers get. Calls refused at the door, before any
 * interceptor, are counted by the adapter (api/http/rpc-adapter.ts) through the same metrics.rpc.
 */
export function rpcMetricsInterceptor(metrics: Pick<HookwireMetrics, "rpc">): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    let res;
    try {
      res = await next(req);
    } catch (err) {
      metrics.rpc(req.method, ConnectError.from(err).code, started);
      throw err;
    }
    if (res.stream) return { ...res, message: measuredStream(res.message, metrics, req.method, req.signal, started) };
    metrics.rpc(req.method, 0, started);
    return res;
  };
}

/** A server stream is counted when it ends: OK, its error's code, or CANCELLED when the caller went away (our
 * streams then end quietly); one the front door ended on schedule (StreamLifetimeOver) is OK. */
async function* measuredStream<T>(
  messages: AsyncIterable<T>,
  metrics: Pick<HookwireMetrics, "rpc">,
  method: DescMethod,
  signal: AbortSignal,
  started: number,
): AsyncGenerator<T> {
  let code: number = Code.Canceled;
  try {
    yield* messages;
    if (!signal.aborted || signal.reason instanceof StreamLifetimeOver) code = 0;
  } catch (err) {
    code = ConnectError.from(err).code;
    throw err;
  } finally {
    metrics.rpc(method, code, started);
  }
}

/**
 * A span per RPC (docs/tracing.md), continuing the caller's traceparent: first in the list, so it sees the code
 * the caller gets and its handler's store writes are its children. Present only while traces are on.
 */
export function tracingInterceptor(traces: Traces): Interceptor {
  return (next) => async (req) => {
    const contentType = req.header.get("content-type") ?? "";
    const protocol = contentType.startsWith("application/grpc-web") ? "grpc-web" : contentType.startsWith("application/grpc") ? "grpc" : "connect";
    const caller = req.contextValues.get(callerKey);
    const attributes: Record<string, string> = { "rpc.system": protocol === "connect" ? "connect_rpc" : "grpc", "hookwire.protocol": protocol };
    if (caller) attributes["hookwire.tenant"] = caller.tenant;
    if (caller?.portal) attributes["hookwire.owner"] = caller.portal.owner;
    const span = traces.rpc(req.service.typeName, req.method.name, req.header, attributes);
    let res;
    try {
      res = await span.run(() => next(req));
    } catch (err) {
      const ce = ConnectError.from(err);
      span.end(ce.code, ce.rawMessage);
      throw err;
    }
    if (res.stream) return { ...res, message: tracedStream(res.message, span, req.signal) };
    span.end(0);
    return res;
  };
}

/** A server stream's span ends with the stream, as measuredStream counts it. */
async function* tracedStream<T>(messages: AsyncIterable<T>, span: RpcSpan, signal: AbortSignal): AsyncGenerator<T> {
  let code: number = Code.Canceled;
  let message: string | undefined;
  try {
    yield* messages;
    if (!signal.aborted || signal.reason instanceof StreamLifetimeOver) code = 0;
  } catch (err) {
    const ce = ConnectError.from(err);
    code = ce.code;
    message = ce.rawMessage;
    throw err;
  } finally {
    span.end(code, message);
  }
}
