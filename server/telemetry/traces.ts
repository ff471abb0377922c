// What the server's parts see of tracing (docs/tracing.md): plain interfaces, no OpenTelemetry import. The one
// implementation (otel.ts) is loaded with import() only when OTEL_* asks for traces, so a server without them
// loads no part of the SDK and its hot paths pay for none: they hold `undefined` where a Traces would be.
import type { Delivery } from "../domain/model.js";

/** How an attempt ended, for its span. */
export interface AttemptEnd {
  outcome: "delivered" | "retry" | "failed" | "interrupted";
  /** Where it went (the subscription's URL as read for this attempt). */
  url: string;
  /** Whether a request went out at all. */
  sent: boolean;
  /** 0 when no response arrived. */
  statusCode: number;
  /** Why it failed; "" when it did not. */
  error: string;
}

/** One attempt's span (client kind), started before the attempt is prepared. */
export interface AttemptSpan {
  /** The span's context as a W3C traceparent: sent to the receiver, which may continue the trace. */
  readonly traceparent: string;
  end(end: AttemptEnd): void;
}

/** Which context a store write's span belongs to: the call running it, or the trace a delivery carries. */
export type WriteParent = { call: true } | { trace: string | undefined };

/** One RPC's span (server kind). */
export interface RpcSpan {
  /** Runs the handler with this span active: the store writes it makes are its children. */
  run<T>(fn: () => T): T;
  /** Ends it with the call's gRPC status code (0 for OK; Connect's codes are the same numbers) and error message. */
  end(code: number, message?: string): void;
}

export interface Traces {
  /**
   * Starts an RPC's span, named `service/method`, continuing the trace of the caller's traceparent header when it
   * sends one (every protocol carries HTTP headers).
   */
  rpc(service: string, method: string, header: Headers, attributes: Record<string, string>): RpcSpan;
  /** The active span's context as a traceparent (stored with the deliveries a call makes); undefined outside any span. */
  current(): string | undefined;
  /** Runs a store write in a span named `name`, in `parent`'s trace; when there is none, the write runs untraced. */
  write<R>(name: string, parent: WriteParent, run: () => Promise<R>): Promise<R>;
  /** Starts an attempt's span in the trace its delivery carries (a new trace when it carries none). */
  attempt(doc: Delivery): AttemptSpan;
  /** Runs `fn` outside any span: what it sets off for later (timers) belongs to no call's trace. */
  detached<T>(fn: () => T): T;
  /** Exports what is left; called once the server has stopped. */
  shutdown(): Promise<void>;
}
