// The only code that sends HTTP requests to subscribers: undici with keep-alive pools per origin,
// no redirects, a deadline per attempt, and the private-address rule and egress allow-list enforced when
// connecting.
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP } from "node:net";
import { Agent, type Dispatcher } from "undici";
import { addressRefusal, hostListed, normalHost, type EgressAllowList, type Refusal } from "../domain/egress.js";

export type { AttemptResult } from "./sender.js";
import type { AttemptResult, Sender } from "./sender.js";

export const EXCERPT_BYTES = 1024;
/** Why we abort a request (its result was settled already). */
const ABORTED = new Error("the attempt ended");
/** A response body longer than this is not read to the end; the connection is dropped instead. */
const DRAIN_BYTES = 64 * 1024;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * dns.lookup that refuses a name when any address it resolves to is refused (egress.ts): the check holds at
 * connect time, so DNS rebinding cannot get around it. The error names the host, never the address: a
 * tenant must not learn what an internal name resolves to (a DNS oracle).
 */
export function destinationLookup(allowPrivate: boolean, egress: EgressAllowList | undefined) {
  return function lookup(hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const listed = egress !== undefined && hostListed(egress, hostname);
      let refusal: Refusal | undefined;
      for (const a of addresses) if ((refusal = addressRefusal(a.address, listed, allowPrivate, egress))) break;
      if (refusal) {
        const what = refusal === "private" ? "a loopback, private or link-local address" : "an address outside HOOKWIRE_EGRESS_ALLOW";
        const e: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${what}; refused`);
        e.code = refusal === "private" ? "EHOOKWIREPRIVATE" : "EHOOKWIREEGRESS";
        return callback(e, []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), []);
      callback(null, first.address, first.family);
    });
  };
}

/** The lookup with the private rule alone (no allow-list, private addresses refused). */
export const publicOnlyLookup = destinationLookup(false, undefined);

export interface SenderOptions {
  allowPrivateUrls: boolean;
  /** HOOKWIRE_EGRESS_ALLOW: where deliveries may go; undefined, anywhere the private rule allows. */
  egressAllow?: EgressAllowList;
  /** Connections per origin: at least what may be in flight to one origin over every tenant's lines (the scheduler bounds attempts). */
  connectionsPerOrigin: number;
  userAgent: string;
}

/** undici times a request's header and body timeouts on timers of this resolution (lib/util/timers.js: RESOLUTION_MS). */
const UNDICI_TIMER_SLACK_MS = 1000;

function describe(err: unknown, timedOut: boolean, timeoutMs: number, host?: string): string {
  if (timedOut) return `timed out after ${timeoutMs} ms`;
  const e = err as { code?: string; message?: string; address?: string; cause?: { code?: string; message?: string; address?: string } };
  const code = e.cause?.code ?? e.code;
  let message = e.cause?.message ?? e.message ?? String(err);
  // A connection error names the address it tried ("connect ECONNREFUSED 10.1.2.7:80"): for a URL with a
  // host name, the name stands in for it, so attempts never tell a tenant what a name resolves to.
  const address = e.cause?.address ?? e.address;
  if (host && address && isIP(host) === 0) message = message.split(address).join(host);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

export class HttpSender implements Sender {
  private readonly agent: Agent;
  private readonly verdicts = new Map<string, Refusal | "allowed">();

  constructor(private readonly opts: SenderOptions) {
    this.agent = new Agent({
      connections: opts.connectionsPerOrigin,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      connect: opts.allowPrivateUrls && !opts.egressAllow ? {} : { lookup: destinationLookup(opts.allowPrivateUrls, opts.egressAllow) as never },
    });
  }

  /** `signal` interrupts the attempt (shutdown): the result then says interrupted. */
  send(url: string, headers: Record<string, string>, body: string, timeoutMs: number, signal?: AbortSignal): Promise<AttemptResult> {
    const attempt = new Attempt(timeoutMs, signal);
    let target: URL;
    try {
      target = new URL(url);
    } catch (err) {
      return Promise.resolve(attempt.result(0, "", describe(err, false, timeoutMs)));
    }
    const host = normalHost(target.hostname);
    // An IP literal is connected to without a lookup: judged here instead.
    if (!this.opts.allowPrivateUrls || this.opts.egressAllow) {
      const refusal = this.literalRefusal(host);
      if (refusal === "private") return Promise.resolve(attempt.result(0, "", `${host} is a private address; refused`));
      if (refusal === "outside") return Promise.resolve(attempt.result(0, "", `${host} is outside HOOKWIRE_EGRESS_ALLOW; refused`));
    }
    // Ours written first, then the signed ones, then ours set again so that they win as before: a spread
    // followed by new keys is slow on V8 (see heldBy() in store/ferret/queue.ts).
    const all: Record<string, string> = { "user-agent": this.opts.userAgent, "content-type": "application/json", ...headers };
    all["user-agent"] = this.opts.userAgent;
    all["content-type"] = "application/json";
    return attempt.run(this.agent, target, host, all, body);
  }

  /**
   * The rule's verdict on a host that is an IP literal (undefined for a name, judged when it resolves).
   * Kept per host, as the rule is fixed at start: judging took two BlockList checks, about 6 µs, per attempt.
   */
  private literalRefusal(host: string): Refusal | undefined {
    let verdict = this.verdicts.get(host);
    if (verdict === undefined) {
      verdict = (isIP(host.replace(/%.*$/, "")) !== 0 ? addressRefusal(host, false, this.opts.allowPrivateUrls, this.opts.egressAllow) : undefined) ?? "allowed";
      // Bounded: a process attempting to more distinct hosts than this judges them afresh after a clear.
      if (this.verdicts.size >= 10_000) this.verdicts.clear();
      this.verdicts.set(host, verdict);
    }
    return verdict === "allowed" ? undefined : verdict;
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  /** Closes every connection at once, requests in flight included (close() would wait for them). */
  destroy(): Promise<void> {
    return this.agent.destroy();
  }
}

/**
 * One attempt, as undici's dispatch handler: no response stream, async iterator or abort signal per attempt
 * (request() cost about 40 µs of CPU more an attempt on this machine), and its handler's methods are made once,
 * not as closures per attempt. The attempt settles at its deadline or interruption even while it still waits
 * for a connection; the request is aborted once it has one.
 */
class Attempt implements Dispatcher.DispatchHandler {
  private readonly at = new Date();
  private readonly started = performance.now();
  private settled = false;
  private timedOut = false;
  private controller: Dispatcher.DispatchController | undefined;
  private statusCode = 0;
  private retryAfter: string | undefined;
  private readonly chunks: Buffer[] = [];
  private read = 0;
  private resolve: ((r: AttemptResult) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The URL's host, for describing connection errors without the address it resolved to. */
  private host: string | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** The signal's abort. */
  handleEvent(): void {
    this.stop(this.result(0, "", "interrupted"));
  }

  result(statusCode: number, excerpt: string, error: string, retryAfter?: string): AttemptResult {
    return {
      at: this.at,
      durationMs: Math.round(performance.now() - this.started),
      statusCode,
      excerpt,
      error,
      retryAfter,
      interrupted: this.signal?.aborted ?? false,
    };
  }

  run(agent: Agent, target: URL, host: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    const done = new Promise<AttemptResult>((resolve) => (this.resolve = resolve));
    this.timer = setTimeout(onTimeout, this.timeoutMs, this);
    // The attempt is its own abort listener (handleEvent): no closure per attempt.
    this.signal?.addEventListener("abort", this, { once: true });
    if (this.signal?.aborted) {
      this.handleEvent();
      return done;
    }
    this.host = host;
    try {
      // undici's own timeouts only back up the attempt's timer (which names the deadline in the attempt's error):
      // it times them with coarse timers that may fire up to a second early, so they are set a second later.
      const backstop = this.timeoutMs + UNDICI_TIMER_SLACK_MS;
      agent.dispatch({ origin: target.origin, path: target.pathname + target.search, method: "POST", headers, body, headersTimeout: backstop, bodyTimeout: backstop }, this);
    } catch (err) {
      this.settle(this.result(0, "", describe(err, false, this.timeoutMs)));
    }
    return done;
  }

  timeOut(): void {
    this.timedOut = true;
    this.stop(this.result(0, "", describe(undefined, true, this.timeoutMs)));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(ABORTED);
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.statusCode = statusCode;
    const ra = headers["retry-after"];
    this.retryAfter = Array.isArray(ra) ? ra[0] : ra;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.read < EXCERPT_BYTES) this.chunks.push(chunk);
    this.read += chunk.length;
    // The status is what counts: a long body is not read to its end, the connection is dropped instead.
    if (this.read > DRAIN_BYTES) {
      this.settle(this.answered());
      controller.abort(ABORTED);
    }
  }

  onResponseEnd(): void {
    this.settle(this.answered());
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    // A body cut short after the status only shortens the excerpt.
    this.settle(this.statusCode !== 0 ? this.answered() : this.result(0, "", describe(err, this.timedOut, this.timeoutMs, this.host)));
  }

  private answered(): AttemptResult {
    const excerpt = Buffer.concat(this.chunks).subarray(0, EXCERPT_BYTES).toString("utf8");
    return this.result(this.statusCode, excerpt, "", this.retryAfter);
  }

  /** Settles with `r` and aborts the request if it has started. */
  private stop(r: AttemptResult): void {
    this.settle(r);
    if (this.controller && !this.controller.aborted) this.controller.abort(ABORTED);
  }

  private settle(r: AttemptResult): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener("abort", this);
    this.resolve?.(r);
  }
}

function onTimeout(attempt: Attempt): void {
  attempt.timeOut();
}
