// One attempt, in stages: prepare (the current subscription or Send secret, and the body) → send →
// classify (the one retry policy). Recording the outcome is the engine's; nothing here writes.
import { errorFields } from "../telemetry/log.js";
import { classify } from "../domain/policy.js";
import type { HookwireMetrics } from "../telemetry/metrics.js";
import type { AttemptSpan, Traces } from "../telemetry/traces.js";
import type { Attempt, Clock, Delivery } from "../ports.js";
import type { BodyCache } from "./body-cache.js";
import { deliveryHeaders } from "./headers.js";
import { requestHeaders } from "../domain/endpoint-headers.js";
import type { AttemptResult, Sender } from "./sender.js";
import type { PrepareAttempt } from "./prepare.js";

export type AttemptOutcome =
  /** Cut off by shutdown: not the receiver's failure, so nothing is counted. */
  | { kind: "interrupted" }
  /**
   * `gone`: the endpoint answered 410 Gone. `exhausted`: failed with no retry left (else it could not be
   * retried at all). `sent`: the attempt went to the endpoint (its outcome is the endpoint's health);
   * false when Hookwire could not send it at all.
   */
  | { kind: "final"; next: Delivery; gone: boolean; exhausted: boolean; sent: boolean }
  | { kind: "retry"; next: Delivery; afterMs: number; sent: boolean };

export interface WorkerDeps {
  prepare: PrepareAttempt;
  sender: Sender;
  bodies: BodyCache;
  /** Aborts attempts in flight (shutdown). */
  interrupt: AbortSignal;
  clock: Clock;
  metrics: HookwireMetrics;
  /** Told each prepared attempt's rate limit, as read now (the scheduler paces the endpoint's next starts by it). */
  pace?: (doc: Delivery, perSecond: number) => void;
  /** A span per attempt, in its Trigger's trace, and its traceparent sent to the receiver; undefined while traces are off. */
  traces?: Traces | undefined;
}

export class Worker {
  constructor(private readonly deps: WorkerDeps) {}

  /** The message body could not be read: the attempt fails (and is retried), counted as the store's failure. Made once, not per attempt. */
  private readonly storeFailed = (): undefined => {
    this.deps.metrics.storeError("prepare");
    return undefined;
  };

  /** Not async itself: without traces, the attempt's own promise, no extra step. */
  attempt(doc: Delivery): Promise<AttemptOutcome> {
    return this.deps.traces === undefined ? this.make(doc, undefined) : this.traced(doc, this.deps.traces);
  }

  private async traced(doc: Delivery, traces: Traces): Promise<AttemptOutcome> {
    const span = traces.attempt(doc);
    try {
      const outcome = await this.make(doc, span.traceparent);
      endSpan(span, doc, outcome);
      return outcome;
    } catch (err) {
      span.end({ outcome: "failed", url: doc.url, sent: false, statusCode: 0, error: errorFields(err).error as string });
      throw err;
    }
  }

  /** The attempt; `traceparent`, its span's, is sent with it. */
  private async make(doc: Delivery, traceparent: string | undefined): Promise<AttemptOutcome> {
    const [prepared, body] = await Promise.all([this.prepare(doc), this.deps.bodies.get(doc.messageId).catch(this.storeFailed)]);
    if (prepared.ok === false) {
      // Nothing to send to (the subscription is gone or disabled, the secret cannot be read): the delivery ends.
      return { kind: "final", next: this.after(doc, doc.url, notSent(new Date(this.deps.clock.now()), prepared.reason), "failed"), gone: false, exhausted: false, sent: false };
    }
    let result: AttemptResult;
    let url = doc.url;
    let sent = false;
    if (body === undefined) {
      // The store could not be read (the message exists: it was checked when the work was taken on).
      result = notSent(new Date(this.deps.clock.now()), "not sent: the message body could not be read; will retry");
    } else if (prepared.ok === "error") {
      result = notSent(new Date(this.deps.clock.now()), prepared.error);
    } else {
      url = prepared.attempt.url;
      const signed = this.sign(doc, body, prepared.attempt.secret, prepared.attempt.previousSecrets);
      // A secret that cannot sign will not sign on a retry either: the delivery ends, saying why.
      if (typeof signed === "string") return { kind: "final", next: this.after(doc, url, notSent(new Date(this.deps.clock.now()), signed), "failed"), gone: false, exhausted: false, sent: false };
      // The subscription's own headers first: the signed ones are written after them and win (none can clash: see endpoint-headers.ts).
      const custom = prepared.attempt.headers;
      const headers = custom.length === 0 ? signed : Object.assign(requestHeaders(custom), signed);
      // Hookwire's too (no subscription may set it: endpoint-headers.ts): the receiver may continue the trace.
      if (traceparent !== undefined) headers.traceparent = traceparent;
      result = await this.deps.sender.send(url, headers, body, doc.policy.timeoutMs, this.deps.interrupt);
      if (result.interrupted) return { kind: "interrupted" };
      sent = true;
    }
    const verdict = classify(doc.policy, doc.attempts.length + 1, result);
    if (verdict.outcome === "retry") {
      const next = this.after(doc, url, result, "pending");
      return { kind: "retry", next: { ...next, nextAttemptAt: new Date(next.updatedAt.getTime() + verdict.afterMs) }, afterMs: verdict.afterMs, sent };
    }
    const gone = verdict.outcome === "failed" && verdict.gone;
    return { kind: "final", next: this.after(doc, url, result, verdict.outcome), gone, exhausted: verdict.outcome === "failed" && !gone, sent };
  }

  /** A store error counts as a failed attempt (retried), not as a reason to give up. */
  private async prepare(doc: Delivery) {
    try {
      const prepared = await this.deps.prepare(doc);
      if (prepared.ok === true) this.deps.pace?.(doc, prepared.attempt.ratePerSecond);
      return prepared;
    } catch (err) {
      this.deps.metrics.storeError("prepare");
      return { ok: "error" as const, error: `preparing the attempt failed: ${errorFields(err).error as string}` };
    }
  }

  /** The signed headers, or why they cannot be made. */
  private sign(doc: Delivery, body: string, secret: string, previous: string[]): Record<string, string> | string {
    try {
      // The signing time is the engine's clock's, as every other time of an attempt is.
      return deliveryHeaders(doc.messageId, doc.event, body, secret, Math.floor(this.deps.clock.now() / 1000), previous);
    } catch (err) {
      return `not sent: cannot sign: ${errorFields(err).error as string}`;
    }
  }

  private after(doc: Delivery, url: string, result: AttemptResult, status: Delivery["status"]): Delivery {
    return { ...doc, url, attempts: [...doc.attempts, attemptOf(result)], updatedAt: new Date(this.deps.clock.now()), status };
  }
}

/** Ends an attempt's span with what the attempt came to. */
function endSpan(span: AttemptSpan, doc: Delivery, outcome: AttemptOutcome): void {
  if (outcome.kind === "interrupted") return span.end({ outcome: "interrupted", url: doc.url, sent: true, statusCode: 0, error: "interrupted by shutdown" });
  const last = outcome.next.attempts[outcome.next.attempts.length - 1];
  const result = outcome.kind === "retry" ? "retry" : outcome.next.status === "delivered" ? "delivered" : "failed";
  span.end({ outcome: result, url: outcome.next.url, sent: outcome.sent, statusCode: last?.statusCode ?? 0, error: last?.error ?? "" });
}

/** The result of an attempt that never reached the network. */
function notSent(at: Date, error: string): AttemptResult {
  return { at, durationMs: 0, statusCode: 0, excerpt: "", error, retryAfter: undefined, interrupted: false };
}

function attemptOf(r: AttemptResult): Attempt {
  return { at: r.at, durationMs: r.durationMs, statusCode: r.statusCode, excerpt: r.excerpt, error: r.error };
}
