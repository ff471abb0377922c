// The dispatcher: holds leased deliveries in memory, runs their attempts under per-endpoint and total
// concurrency limits, schedules retries, and claims due work from the store (retries released to the
// store, takeovers of expired leases, work of a restarted process).
import { errorFields, type Logger } from "../log.js";
import type { Delivery, DeliveryQueue, HeldDelivery, Messages } from "../ports.js";
import { deliveryHeaders } from "./headers.js";
import type { AttemptResult, HttpSender } from "./http-sender.js";
import { classify } from "../domain/policy.js";
import { BodyCache } from "./body-cache.js";
import type { Preparation, PrepareAttempt } from "./prepare.js";

export interface DispatcherOptions {
  leaseMs: number;
  pollMs: number;
  takeAtOnce: number;
  /** Most deliveries held in memory (queued, waiting for a retry, or in flight). */
  maxHeld: number;
  maxInFlight: number;
  maxInFlightPerEndpoint: number;
  /** Retries due sooner than this wait in memory; later ones are released to the store. */
  holdRetriesUnderMs: number;
  /** Message bodies kept in memory for attempts to come (the rest are read again when an attempt starts). */
  bodyCacheBytes: number;
}

export const DEFAULT_DISPATCHER_OPTIONS: DispatcherOptions = {
  leaseMs: 30_000,
  pollMs: 1000,
  // FerretDB answers a claim by scanning the whole queue, whatever the limit: fewer, larger claims cost less.
  takeAtOnce: 1000,
  maxHeld: 20_000,
  maxInFlight: 512,
  maxInFlightPerEndpoint: 32,
  holdRetriesUnderMs: 10_000,
  bodyCacheBytes: 64 * 1024 * 1024,
};

/** A message no longer there after this long means its Trigger failed half-way and was never answered. */
const ORPHAN_AGE_MS = 60_000;

/** A delivery this process holds: no body (read when its attempt starts), so holding many costs little. */
interface Held {
  /** The queue's handle, through which every new state is recorded. */
  item: HeldDelivery;
  doc: Delivery;
  endpoint: string;
  timer: NodeJS.Timeout | undefined;
}

interface Endpoint {
  inFlight: number;
  waiting: Held[];
}

export interface DispatcherDeps {
  queue: DeliveryQueue;
  messages: Messages;
  sender: HttpSender;
  /** The current URL and secrets for an attempt about to start. */
  prepare: PrepareAttempt;
  log: Logger;
  /** Called once an endpoint answers 410 Gone. */
  onGone(doc: Delivery): Promise<void>;
}

type Listener = (doc: Delivery) => void;

export class Dispatcher {
  private readonly held = new Map<string, Held>();
  private readonly endpoints = new Map<string, Endpoint>();
  /** Endpoints with waiting work that could not start because the total limit was reached. */
  private readonly blocked = new Set<string>();
  private inFlight = 0;
  private readonly listeners = new Set<Listener>();
  private readonly finishWaiters = new Map<string, Array<(doc: Delivery) => void>>();
  private readonly bodies: BodyCache;
  private claimTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private claiming = false;
  private stopped = false;
  private readonly running = new Set<Promise<void>>();
  /** Aborts the attempts still in flight when the shutdown grace runs out. */
  private readonly interrupt = new AbortController();

  constructor(
    private readonly deps: DispatcherDeps,
    private readonly opts: DispatcherOptions = DEFAULT_DISPATCHER_OPTIONS,
  ) {
    this.bodies = new BodyCache(async (id) => (await deps.messages.byId(id))?.body, opts.bodyCacheBytes);
  }

  start(): void {
    this.scheduleClaim(0);
    this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.opts.leaseMs / 3)));
  }

  /** Names this process's hold on work in the store. */
  get owner(): string {
    return this.deps.queue.holder;
  }

  /**
   * Fast path: deliveries just accepted, held by this process, start now. A process that holds as
   * many as it may (maxHeld) releases them: their hold runs out and they are taken like any other work.
   */
  submit(items: HeldDelivery[], body: string): void {
    if (this.stopped || this.held.size >= this.opts.maxHeld) {
      this.deps.queue.release(items).catch((err: unknown) => this.deps.log.warn("releasing deliveries failed; their hold runs out", errorFields(err)));
      return;
    }
    if (items[0]) this.bodies.put(items[0].delivery.messageId, body);
    for (const item of items) this.hold(item);
  }

  /** Calls the listener with each delivery after an attempt's outcome is stored. */
  watch(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the delivery once it is delivered or failed and that is stored. */
  finished(id: string, signal?: AbortSignal): Promise<Delivery> {
    return new Promise((resolveDone, reject) => {
      const list = this.finishWaiters.get(id) ?? [];
      const done = (doc: Delivery) => {
        signal?.removeEventListener("abort", onAbort);
        resolveDone(doc);
      };
      const onAbort = () => {
        const l = this.finishWaiters.get(id);
        if (l) l.splice(l.indexOf(done), 1);
        reject(signal?.reason ?? new Error("aborted"));
      };
      list.push(done);
      this.finishWaiters.set(id, list);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  get stats(): { held: number; inFlight: number; unwritten: number; cachedBodyBytes: number } {
    return { held: this.held.size, inFlight: this.inFlight, unwritten: this.deps.queue.unwritten, cachedBodyBytes: this.bodies.size.bytes };
  }

  /** Tells watchers and Send waiters about a state once it is stored. */
  private announce(doc: Delivery): void {
    for (const l of this.listeners) l(doc);
    if (doc.status !== "pending") {
      const waiters = this.finishWaiters.get(doc._id);
      if (waiters) {
        this.finishWaiters.delete(doc._id);
        for (const w of waiters) w(doc);
      }
    }
  }

  private hold(item: HeldDelivery): void {
    const doc = item.delivery;
    if (this.stopped || this.held.has(doc._id)) return;
    const held: Held = { item, doc, endpoint: new URL(doc.url).origin, timer: undefined };
    this.held.set(doc._id, held);
    this.scheduleAttempt(held, doc.nextAttemptAt.getTime() - Date.now());
  }

  private scheduleAttempt(item: Held, delayMs: number): void {
    if (delayMs <= 0) return this.enqueue(item);
    item.timer = setTimeout(() => {
      item.timer = undefined;
      this.enqueue(item);
    }, delayMs);
  }

  private endpoint(origin: string): Endpoint {
    let ep = this.endpoints.get(origin);
    if (!ep) {
      ep = { inFlight: 0, waiting: [] };
      this.endpoints.set(origin, ep);
    }
    return ep;
  }

  private enqueue(item: Held): void {
    if (this.stopped) return;
    const ep = this.endpoint(item.endpoint);
    if (ep.inFlight < this.opts.maxInFlightPerEndpoint && this.inFlight < this.opts.maxInFlight) this.run(item, ep);
    else {
      ep.waiting.push(item);
      if (ep.inFlight < this.opts.maxInFlightPerEndpoint) this.blocked.add(item.endpoint);
    }
  }

  /** Starts waiting work after a slot frees: the same endpoint first, then endpoints held back by the total limit. */
  private pump(origin: string): void {
    const ep = this.endpoints.get(origin);
    if (ep && ep.waiting.length > 0 && ep.inFlight < this.opts.maxInFlightPerEndpoint && this.inFlight < this.opts.maxInFlight) {
      this.run(ep.waiting.shift()!, ep);
    }
    for (const other of this.blocked) {
      if (this.inFlight >= this.opts.maxInFlight) break;
      const oep = this.endpoints.get(other);
      if (!oep || oep.waiting.length === 0) {
        this.blocked.delete(other);
        continue;
      }
      while (oep.waiting.length > 0 && oep.inFlight < this.opts.maxInFlightPerEndpoint && this.inFlight < this.opts.maxInFlight) {
        this.run(oep.waiting.shift()!, oep);
      }
      if (oep.waiting.length === 0 || oep.inFlight >= this.opts.maxInFlightPerEndpoint) this.blocked.delete(other);
    }
    if (ep && ep.inFlight === 0 && ep.waiting.length === 0) this.endpoints.delete(origin);
  }

  private run(item: Held, ep: Endpoint): void {
    ep.inFlight++;
    this.inFlight++;
    const p = this.attempt(item)
      .catch((err: unknown) => this.deps.log.error("delivery attempt crashed", { delivery: item.doc._id, ...errorFields(err) }))
      .finally(() => {
        ep.inFlight--;
        this.inFlight--;
        this.running.delete(p);
        this.pump(item.endpoint);
      });
    this.running.add(p);
  }

  /** What the attempt needs; a store error counts as a failed attempt (retried), not as a reason to give up. */
  private async prepare(doc: Delivery): Promise<Preparation | { ok: "error"; error: string }> {
    try {
      return await this.deps.prepare(doc);
    } catch (err) {
      return { ok: "error", error: `preparing the attempt failed: ${errorFields(err).error as string}` };
    }
  }

  private async attempt(item: Held): Promise<void> {
    const doc = item.doc;
    const [prepared, body] = await Promise.all([this.prepare(doc), this.bodies.get(doc.messageId).catch(() => undefined)]);
    const nowSeconds = Math.floor(Date.now() / 1000);
    let result: AttemptResult;
    let url = doc.url;
    if (body === undefined) {
      // The store could not be read (the message exists: it was checked when the work was taken on).
      result = notSent("not sent: the message body could not be read; will retry");
    } else if (prepared.ok === true) {
      url = prepared.attempt.url;
      let headers: Record<string, string> | undefined;
      try {
        headers = deliveryHeaders(doc.messageId, doc.event, body, prepared.attempt.secret, nowSeconds, prepared.attempt.previousSecrets);
      } catch (err) {
        result = notSent(`not sent: cannot sign: ${errorFields(err).error as string}`);
      }
      if (headers) {
        result = await this.deps.sender.send(url, headers, body, doc.policy.timeoutMs, this.interrupt.signal);
        if (result.interrupted) return this.handBack(item);
      }
    } else if (prepared.ok === false) {
      return this.record(item, { ...doc, attempts: [...doc.attempts, attemptDoc(notSent(prepared.reason))], updatedAt: new Date(), status: "failed" });
    } else {
      result = notSent(prepared.error);
    }
    result ??= notSent("not sent");
    const attempts = [...doc.attempts, attemptDoc(result)];
    const updatedAt = new Date();
    const verdict = classify(doc.policy, attempts.length, result);
    if (verdict.outcome !== "retry") {
      if (verdict.outcome === "failed" && verdict.gone && doc.subscriptionId) {
        await this.deps.onGone(doc).catch((err: unknown) => this.deps.log.warn("disabling a gone subscription failed", errorFields(err)));
      }
      return this.record(item, { ...doc, url, attempts, updatedAt, status: verdict.outcome });
    }
    const delay = verdict.afterMs;
    const nextAttemptAt = new Date(updatedAt.getTime() + delay);
    const keep = delay < this.opts.holdRetriesUnderMs && !this.stopped;
    const next: Delivery = { ...doc, url, attempts, updatedAt, nextAttemptAt };
    this.record(item, next, keep);
    if (keep) {
      item.doc = next;
      this.scheduleAttempt(item, delay);
    } else {
      this.held.delete(doc._id);
      this.scheduleClaim(delay);
    }
  }

  /** Stores a new state of the delivery (announced once stored); a finished one leaves memory. */
  private record(held: Held, next: Delivery, keep = false): void {
    if (next.status !== "pending") this.held.delete(next._id);
    void this.deps.queue.record(held.item, next, keep).then(() => this.announce(next));
  }

  /**
   * An attempt cut off by shutdown is not the receiver's failure: no attempt is counted, and the
   * delivery is stored due now and unleased, for any process to take at once.
   */
  private handBack(held: Held): void {
    this.held.delete(held.doc._id);
    const now = new Date();
    this.record(held, { ...held.doc, updatedAt: now, nextAttemptAt: now });
  }

  private scheduleClaim(delayMs: number): void {
    if (this.stopped) return;
    const wait = Math.min(Math.max(delayMs, 0), this.opts.pollMs);
    if (this.claimTimer) {
      // Keep the earlier of the two wake-ups.
      if (wait >= this.opts.pollMs) return;
      clearTimeout(this.claimTimer);
    }
    this.claimTimer = setTimeout(() => {
      this.claimTimer = undefined;
      void this.claim();
    }, wait);
  }

  private async claim(): Promise<void> {
    if (this.claiming || this.stopped) return;
    this.claiming = true;
    let full = false;
    try {
      const room = Math.min(this.opts.takeAtOnce, this.opts.maxHeld - this.held.size);
      if (room <= 0) return;
      const taken = await this.deps.queue.takeDue(new Date(), room);
      const held = await this.adopt(taken);
      full = taken.length >= room;
      if (taken.length > 0) this.deps.log.debug("claimed due deliveries", { claimed: held, held: this.held.size });
    } catch (err) {
      this.deps.log.warn("claiming due deliveries failed; will retry", errorFields(err));
    } finally {
      this.claiming = false;
      this.scheduleClaim(full ? 0 : this.opts.pollMs);
    }
  }

  /** Which of these messages exist (their bodies read into the cache on the way, a few at a time). */
  private async existingMessages(messageIds: string[]): Promise<Set<string>> {
    const unique = [...new Set(messageIds)];
    const found = new Set<string>();
    for (let i = 0; i < unique.length; i += 32) {
      const chunk = unique.slice(i, i + 32);
      const bodies = await Promise.all(chunk.map((id) => this.bodies.get(id)));
      chunk.forEach((id, j) => bodies[j] !== undefined && found.add(id));
    }
    return found;
  }

  /**
   * Work whose message is missing was stored by a Trigger that failed before its commit point: past
   * ORPHAN_AGE_MS it was never answered and goes; before, that Trigger may still be storing the
   * message, and the lease just taken keeps the work aside until then.
   */
  private isOrphan(createdAt: Date): boolean {
    return Date.now() - createdAt.getTime() > ORPHAN_AGE_MS;
  }

  private warnOrphans(count: number): void {
    this.deps.log.warn("dropping deliveries of a message that was never stored", { count });
  }

  /**
   * Taken deliveries are held if their message exists. Orphans go; young ones whose message may still
   * be on its way are released, to be taken again once their hold runs out. Answers how many are held.
   */
  private async adopt(taken: HeldDelivery[]): Promise<number> {
    const messages = await this.existingMessages(taken.map((t) => t.delivery.messageId));
    const orphans: HeldDelivery[] = [];
    const later: HeldDelivery[] = [];
    let held = 0;
    for (const item of taken) {
      const doc = item.delivery;
      if (messages.has(doc.messageId)) {
        this.hold(item);
        held++;
      } else (this.isOrphan(doc.createdAt) ? orphans : later).push(item);
    }
    if (orphans.length > 0) {
      this.warnOrphans(orphans.length);
      await this.deps.queue.drop(orphans);
    }
    if (later.length > 0) await this.deps.queue.release(later);
    return held;
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      await this.deps.queue.renew();
    } catch (err) {
      this.deps.log.warn("renewing delivery leases failed", errorFields(err));
    }
  }

  /**
   * Stops taking work and lets attempts in flight finish for up to graceMs; then aborts the rest
   * (handed back, see handBack), stores every outcome and releases what this process holds, for any
   * process to take at once.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.claimTimer) clearTimeout(this.claimTimer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    for (const item of this.held.values()) if (item.timer) clearTimeout(item.timer);
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.running), new Promise((r) => (graceTimer = setTimeout(r, graceMs)))]);
    clearTimeout(graceTimer);
    if (this.running.size > 0) {
      this.deps.log.info("shutdown grace over: interrupting attempts in flight; they are retried at once by any process", { inFlight: this.running.size });
      this.interrupt.abort();
      await Promise.all(this.running);
    }
    await this.deps.queue.flush(Date.now() + 5000);
    await this.deps.queue.releaseAll().catch(() => undefined);
    await this.deps.sender.destroy();
  }
}

/** The result of an attempt that never reached the network. */
function notSent(error: string): AttemptResult {
  return { at: new Date(), durationMs: 0, statusCode: 0, excerpt: "", error, retryAfter: undefined, interrupted: false };
}

function attemptDoc(r: AttemptResult) {
  return { at: r.at, durationMs: r.durationMs, statusCode: r.statusCode, excerpt: r.excerpt, error: r.error };
}
