// The only code that sends HTTP requests to subscribers: undici with keep-alive pools per origin,
// no redirects, a deadline per attempt, and the private-address rule enforced when connecting.
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP } from "node:net";
import { Agent, request } from "undici";
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
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onInterrupt = () => controller.abort();
    if (signal?.aborted) controller.abort();
    signal?.addEventListener("abort", onInterrupt, { once: true });
    try {
      const res = await request(url, {
        method: "POST",
        headers: { ...headers, "user-agent": this.opts.userAgent, "content-type": "application/json" },
        body,
        dispatcher: this.agent,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const chunks: Buffer[] = [];
      let read = 0;
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          if (read < EXCERPT_BYTES) chunks.push(chunk);
          read += chunk.length;
          if (read > DRAIN_BYTES) {
            res.body.destroy();
            break;
          }
        }
      } catch {
        // The status is what counts; a body cut short only shortens the excerpt.
      }
      const excerpt = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString("utf8");
      const ra = res.headers["retry-after"];
      return finish(res.statusCode, excerpt, "", Array.isArray(ra) ? ra[0] : ra);
    } catch (err) {
      return finish(0, "", describe(err, timedOut, timeoutMs));
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onInterrupt);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  /** Closes every connection at once, requests in flight included (close() would wait for them). */
  destroy(): Promise<void> {
    return this.agent.destroy();
  }
}
