// The soak figure's publisher: Triggers at a steady offered rate (open loop: a stalled server does not slow
// the offer), each one retried with backoff while the server or its store is down, as the SDK retries a
// Trigger: with the same idempotency key, so a repeat of a call that was stored answers the first message.
// A Trigger counts as accepted only once it is answered OK.
import { Pool } from "undici";
import { sleep } from "./lib.js";

export interface AcceptedTrigger {
  tenant: string;
  event: string;
  messageId: string;
  /** performance.now() when the call that was answered OK was sent: the latest moment known to precede the store. */
  at: number;
  /** performance.now() when its answer came: what the call itself waited (e.g. for a store coming back) ends here. */
  answeredAt: number;
  /** How many subscriptions the server said matched. */
  deliveries: number;
}

export interface PublisherOptions {
  port: number;
  tenants: Array<{ tenant: string; key: string }>;
  /** Triggers per second offered, over all tenants. */
  rate: number;
  /** The event of the i-th Trigger of a tenant. */
  event(i: number): string;
  /** A prefix for idempotency keys, unique to the run. */
  keyPrefix: string;
  /** A Trigger still unanswered this long after its first try is given up (and counted so). */
  giveUpMs: number;
  /** At most this many Triggers in flight (retrying included); an offer beyond it is skipped and counted. */
  maxInFlight: number;
  random(): number;
}

export interface PublisherReport {
  offered: number;
  accepted: AcceptedTrigger[];
  givenUp: number;
  skipped: number;
  /** Failed tries by what they got: a Connect error code, an HTTP status, or a network error code. */
  refusals: Map<string, number>;
  /** Tries per accepted Trigger, at most. */
  maxTries: number;
}

/** A Connect JSON error code, or a network error's code, for the refusal tally. */
function describe(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.cause?.code ?? e.code ?? (err instanceof Error ? err.name : "error");
}

/** Answers a client error (a bad request or key) that a retry cannot fix: the run's own mistake. */
const FINAL_STATUSES = new Set([400, 401, 403, 404, 413]);

export function startPublisher(o: PublisherOptions): { stop(): Promise<PublisherReport> } {
  // Short header and body timeouts: a server stuck on a dead store must not hold a call for minutes.
  const http = new Pool(`http://127.0.0.1:${o.port}`, { connections: 32, headersTimeout: 10_000, bodyTimeout: 10_000, connectTimeout: 2000 });
  const report: PublisherReport = { offered: 0, accepted: [], givenUp: 0, skipped: 0, refusals: new Map(), maxTries: 0 };
  const tally = (what: string) => report.refusals.set(what, (report.refusals.get(what) ?? 0) + 1);
  const inFlight = new Set<Promise<void>>();
  let offering = true;

  const publish = async (n: number) => {
    const t = o.tenants[n % o.tenants.length]!;
    const i = Math.floor(n / o.tenants.length);
    const event = o.event(i);
    const body = JSON.stringify({ event, payload: { tenant: t.tenant, i, note: "soak" }, idempotencyKey: `${o.keyPrefix}-${t.tenant}-${i}` });
    const headers = { "content-type": "application/json", authorization: `Bearer ${t.key}` };
    const first = performance.now();
    for (let tries = 1; ; tries++) {
      const sent = performance.now();
      let final = false;
      try {
        const res = await http.request({ path: "/hookwire.v1.WebhookService/Trigger", method: "POST", headers, body });
        const text = await res.body.text();
        if (res.statusCode === 200) {
          const answer = JSON.parse(text) as { messageId: string; deliveries?: number };
          report.accepted.push({ tenant: t.tenant, event, messageId: answer.messageId, at: sent, answeredAt: performance.now(), deliveries: answer.deliveries ?? 0 });
          report.maxTries = Math.max(report.maxTries, tries);
          return;
        }
        let code = String(res.statusCode);
        try {
          code = (JSON.parse(text) as { code?: string }).code ?? code;
        } catch {
          // not a Connect error body: the status stands
        }
        tally(code);
        final = FINAL_STATUSES.has(res.statusCode);
      } catch (err) {
        tally(describe(err));
      }
      if (final || performance.now() - first > o.giveUpMs) {
        report.givenUp++;
        return;
      }
      // Exponential backoff from 50 ms to 2 s, full jitter (the SDK's shape): callers do not return in step.
      await sleep(o.random() * Math.min(2000, 50 * 2 ** Math.min(tries, 6)));
    }
  };

  const offer = (async () => {
    const t0 = performance.now();
    for (let n = 0; offering; n++) {
      const wait = t0 + (n * 1000) / o.rate - performance.now();
      if (wait > 1) await sleep(wait);
      if (!offering) break;
      report.offered++;
      if (inFlight.size >= o.maxInFlight) {
        report.skipped++;
        continue;
      }
      const p = publish(n).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  })();

  return {
    /** Stops offering and waits for the Triggers in flight (each bounded by giveUpMs). */
    async stop() {
      offering = false;
      await offer;
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      await http.close();
      return report;
    },
  };
}
