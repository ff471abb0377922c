// The only code that sends HTTP requests to subscribers: undici with keep-alive pools per origin,
// no redirects, a deadline per attempt, and the private-address rule enforced when connecting.
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP } from "node:net";
import { Agent, type Dispatcher } from "undici";
import { isPrivateAddress } from "../validation.js";

export interface AttemptResult {
  at: Date;
  durationMs: number;
  /** 0 when no response arrived. */
  statusCode: number;
  excerpt: string;
  error: string;
  retryAfter: string | undefined;
  /** Cut off by the caller's signal (shutdown), not by the receiver or the timeout. */
  interrupted: boolean;
}

export const EXCERPT_BYTES = 1024;
/** Why we abort a request (its result was settled already). */
const ABORTED = new Error("the attempt ended");
/** A response body longer than this is not read to the end; the connection is dropped instead. */
const DRAIN_BYTES = 64 * 1024;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that refuses names resolving to loopback, private or link-local addresses: the check holds at connect time, so DNS rebinding cannot get around it. */
export function publicOnlyLookup(hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const blocked = addresses.find((a) => isPrivateAddress(a.address));
    if (blocked) {
      const e: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${blocked.address}, a private address; refused`);
      e.code = "EHOOKWIREPRIVATE";
      return callback(e, []);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), []);
    callback(null, first.address, first.family);
  });
}

export interface SenderOptions {
  allowPrivateUrls: boolean;
  /** Connections per origin: how many attempts one endpoint can have in flight. */
  connectionsPerOrigin: number;
  userAgent: string;
}

function describe(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `timed out after ${timeoutMs} ms`;
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  const message = e.cause?.message ?? e.message ?? String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

export class HttpSender {
  private readonly agent: Agent;

  constructor(private readonly opts: SenderOptions) {
    this.agent = new Agent({
      connections: opts.connectionsPerOrigin,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      connect: opts.allowPrivateUrls ? {} : { lookup: publicOnlyLookup as never },
    });
  }

  /** `signal` interrupts the attempt (shutdown): the result then says interrupted. */
  async send(url: string, headers: Record<string, string>, body: string, timeoutMs: number, signal?: AbortSignal): Promise<AttemptResult> {
    const at = new Date();
    const started = performance.now();
    const finish = (statusCode: number, excerpt: string, error: string, retryAfter?: string): AttemptResult => ({
      at,
      durationMs: Math.round(performance.now() - started),
      statusCode,
      excerpt,
      error,
      retryAfter,
      interrupted: signal?.aborted ?? false,
    });
    if (!this.opts.allowPrivateUrls) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
      if (isIP(host) !== 0 && isPrivateAddress(host)) return finish(0, "", `${host} is a private address; refused`);
    }
    // undici's dispatch with our own handler: no response stream, async iterator or abort signal per attempt
    // (request() costs about 40 µs of CPU more an attempt on this machine). The attempt settles at the timeout
    // or interruption even while it still waits for a connection; the request is aborted once it has one.
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      let timedOut = false;
      let controller: Dispatcher.DispatchController | undefined;
      let statusCode = 0;
      let retryAfter: string | undefined;
      const chunks: Buffer[] = [];
      let read = 0;
      const excerpt = () => Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString("utf8");
      const settle = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onInterrupt);
        resolve(result);
      };
      const stop = (reason: Error) => {
        if (controller && !controller.aborted) controller.abort(reason);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        settle(finish(0, "", describe(undefined, true, timeoutMs)));
        stop(ABORTED);
      }, timeoutMs);
      const onInterrupt = () => {
        settle(finish(0, "", "interrupted"));
        stop(ABORTED);
      };
      signal?.addEventListener("abort", onInterrupt, { once: true });
      if (signal?.aborted) return onInterrupt();
      let target: URL;
      try {
        target = new URL(url);
      } catch (err) {
        return settle(finish(0, "", describe(err, false, timeoutMs)));
      }
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(c) {
          controller = c;
          if (settled) c.abort(ABORTED);
        },
        onResponseStart(_c, status, headers) {
          statusCode = status;
          const ra = headers["retry-after"];
          retryAfter = Array.isArray(ra) ? ra[0] : ra;
        },
        onResponseData(c, chunk) {
          if (read < EXCERPT_BYTES) chunks.push(chunk);
          read += chunk.length;
          // The status is what counts: a long body is not read to its end, the connection is dropped instead.
          if (read > DRAIN_BYTES) {
            settle(finish(statusCode, excerpt(), "", retryAfter));
            c.abort(ABORTED);
          }
        },
        onResponseEnd() {
          settle(finish(statusCode, excerpt(), "", retryAfter));
        },
        onResponseError(_c, err) {
          // A body cut short after the status only shortens the excerpt.
          if (statusCode !== 0) settle(finish(statusCode, excerpt(), "", retryAfter));
          else settle(finish(0, "", describe(err, timedOut, timeoutMs)));
        },
      };
      try {
        this.agent.dispatch(
          {
            origin: target.origin,
            path: target.pathname + target.search,
            method: "POST",
            headers: { ...headers, "user-agent": this.opts.userAgent, "content-type": "application/json" },
            body,
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          },
          handler,
        );
      } catch (err) {
        settle(finish(0, "", describe(err, false, timeoutMs)));
      }
    });
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  /** Closes every connection at once, requests in flight included (close() would wait for them). */
  destroy(): Promise<void> {
    return this.agent.destroy();
  }
}
