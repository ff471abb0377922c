// The delivery engine: what this process holds, run through the stages. The hold keeper takes
// work from the store, the scheduler runs each attempt at its time within the limits, the worker
// makes it (prepare → send → classify), the engine records the outcome through the queue and the
// notifier tells who waits once it is stored.
import { setMaxListeners } from "node:events";
import { errorFields, type Logger } from "../telemetry/log.js";
import type { HookwireMetrics } from "../telemetry/metrics.js";
import type { Traces } from "../telemetry/traces.js";
import { systemClock, type Clock, type Delivery, type DeliveryLog, type Dispatch, type EndpointEvents, type DeliveryQueue, type HealthLog, type HeldDelivery, type Messages, type SubscriptionHealth } from "../ports.js";
import { attemptError } from "../domain/policy.js";
import { reportAttempt } from "./attempt-report.js";
import { HealthRecorder } from "./health-recorder.js";
import { BodyCache } from "./body-cache.js";
import type { Sender } from "./sender.js";
import { HoldKeeper } from "./hold-keeper.js";
import { Notifier, type Listener, type NotifierRelay } from "./notifier.js";
import type { LinePacer } from "./pacer.js";
import type { PrepareAttempt } from "./prepare.js";
import { Scheduler } from "./scheduler.js";
import { Shares, type Shared } from "./shares.js";
import { Worker } from "./worker.js";

export interface EngineOptions {
  holdMs: number;
  pollMs: number;
  /** Most deliveries taken from the store at once. */
  takeAtOnce: number;
  /** Most deliveries held in memory in all (waiting for their time or a slot, or in flight). */
  maxHeld: number;
  /** What one tenant, and one endpoint of it, may hold of that: a full share is parked in the store. */
  maxHeldPerTenant: number;
  maxHeldPerEndpoint: number;
  maxInFlight: number;
  maxInFlightPerTenant: number;
  maxInFlightPerEndpoint: number;
  /** Retries due sooner than this wait in memory; later ones are released to the store. */
  holdRetriesUnderMs: number;
  /** Message bodies kept in memory for attempts to come (the rest are read again when an attempt starts). */
  bodyCacheBytes: number;
  /** How often the gathered health of the subscriptions attempted is written (each at most once per flush). */
  healthFlushMs: number;
}

/** How soon, and at most how seldom, `finished` looks at the stored state of a delivery not held here. */
const FINISHED_FIRST_LOOK_MS = 250;
const FINISHED_LAST_LOOK_MS = 5_000;

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  holdMs: 30_000,
  pollMs: 1000,
  // FerretDB answers a take by scanning the whole queue, whatever the limit: fewer, larger takes cost less.
  takeAtOnce: 1000,
  // One tenant may hold what the whole process held before shares; the total is what the tenants' shares add
  // up to (app.ts sets it from the number of tenants), so no tenant's full share can leave another without room.
  maxHeld: 20_000,
  maxHeldPerTenant: 20_000,
  // A quarter of a tenant's share: a dead endpoint leaves its tenant's other endpoints three quarters.
  maxHeldPerEndpoint: 5_000,
  maxInFlight: 512,
  maxInFlightPerTenant: 512,
  maxInFlightPerEndpoint: 32,
  holdRetriesUnderMs: 10_000,
  bodyCacheBytes: 64 * 1024 * 1024,
  healthFlushMs: 1000,
};

export interface EngineDeps {
  queue: DeliveryQueue;
  messages: Messages;
  /** Stored delivery states, for `finished` when another process attempts the delivery; unset, only this one's outcomes count. */
  deliveries?: DeliveryLog;
  sender: Sender;
  /** The current URL and secrets for an attempt about to start. */
  prepare: PrepareAttempt;
  log: Logger;
  /** Where attempts, outcomes, parked deliveries and the store's failures are counted. */
  metrics: HookwireMetrics;
  /** Where subscription health is kept; unset, none is recorded. */
  health?: HealthLog;
  clock?: Clock;
  /**
   * Who hears what endpoints' outcomes mean (the endpoints use case), made from this engine's dispatch:
   * that use case triggers operational events through it, so it is made with the engine, not before.
   */
  endpoints?: (dispatch: Dispatch) => EndpointEvents;
  /** Rate limits shared with other worker processes (server/cluster/shared-pacer.ts); unset, this process's own. */
  pacer?: LinePacer;
  /** A span per attempt (docs/tracing.md); unset while traces are off. */
  traces?: Traces | undefined;
}

/** A delivery this process holds: no body (read when its attempt starts), so holding many costs little. */
interface Held extends Shared {
  /** The queue's handle, through which every new state is recorded. */
  item: HeldDelivery;
  doc: Delivery;
  /** Its line in the scheduler and its share: its subscription, or for a Send its origin, within its tenant. */
  readonly endpoint: string;
  /** A subscription's delivery: its line is paced by the subscription's rate limit. */
  readonly paced: boolean;
  timer: unknown;
}

/** The scheduler's line for a delivery: tenants and subscriptions never share one (ids never hold a newline). */
function lineOf(doc: Delivery): string {
  return lineKey(doc.tenant, doc.subscriptionId || new URL(doc.url).origin);
}

function lineKey(tenant: string, subscriptionOrOrigin: string): string {
  return `${tenant}\n${subscriptionOrOrigin}`;
}

export class DeliveryEngine implements Dispatch {
  private readonly held = new Map<string, Held>();
  private readonly shares: Shares<Held>;
  private readonly endpoints: EndpointEvents | undefined;
  private readonly bodies: BodyCache;
  /**
   * Held deliveries per message. A body stays cached only while one of its message's deliveries is held: a
   * finished message's body was kept until the byte budget pushed it out, so memory grew with the Triggers a
   * process had taken (by 40 MB over 60,000, the owners figure in bench/README.md) and not with its work.
   */
  private readonly heldPerMessage = new Map<string, number>();
  private readonly notifier = new Notifier();
  private readonly scheduler: Scheduler<Held>;
  private readonly keeper: HoldKeeper;
  private readonly worker: Worker;
  private readonly health: HealthRecorder | undefined;
  /** Aborts the attempts still in flight when the shutdown grace runs out. */
  private readonly interrupt = new AbortController();
  private stopped = false;
  private readonly clock: Clock;

  constructor(
    private readonly deps: EngineDeps,
    private readonly opts: EngineOptions = DEFAULT_ENGINE_OPTIONS,
  ) {
    // Every attempt in flight listens to the one shutdown signal: hundreds of listeners are expected.
    setMaxListeners(0, this.interrupt.signal);
    const clock = deps.clock ?? systemClock;
    this.clock = clock;
    this.shares = new Shares<Held>(opts, opts.takeAtOnce);
    this.bodies = new BodyCache(async (id) => (await deps.messages.byId(id))?.body, opts.bodyCacheBytes);
    this.health =
      deps.health &&
      new HealthRecorder(
        {
          store: deps.health,
          clock,
          log: deps.log,
          onFailing: (tenant, id, health) =>
            void this.endpoints?.failing(tenant, id, health).catch((err: unknown) => deps.log.warn("judging a failing endpoint failed", { subscriptionId: id, ...errorFields(err) })),
        },
        opts.healthFlushMs,
      );
    this.worker = new Worker({
      prepare: deps.prepare,
      sender: deps.sender,
      bodies: this.bodies,
      interrupt: this.interrupt.signal,
      clock,
      metrics: deps.metrics,
      traces: deps.traces,
      pace: (doc, perSecond) => {
        const held = this.held.get(doc._id);
        if (held) this.scheduler.pace(held, perSecond);
      },
    });
    this.scheduler = new Scheduler<Held>(opts, clock, (h) =>
      this.run(h).catch((err: unknown) => deps.log.error("delivery attempt crashed", { delivery: h.doc._id, ...errorFields(err) })),
      deps.pacer,
    );
    this.keeper = new HoldKeeper(
      {
        queue: deps.queue,
        clock,
        log: deps.log,
        metrics: deps.metrics,
        room: () => this.opts.maxHeld - this.held.size,
        heldCount: () => this.held.size,
        skip: () => this.shares.skip(),
        wants: () => {
          const fits = this.shares.picker();
          // A Send's delivery (no subscription) has its line by origin, not known from the row: always wanted.
          return (tenant, subscriptionId) => subscriptionId === "" || fits(tenant, lineKey(tenant, subscriptionId));
        },
        // Without bodies: an attempt reads its body when it starts, so what taken work costs in memory is
        // bounded by the attempts in flight and the body cache, not by how many distinct messages it names.
        existingMessages: (ids) => deps.messages.existing(ids),
        hold: (item) => this.hold(item),
      },
      opts,
    );
    this.endpoints = deps.endpoints?.(this);
  }

  start(): void {
    this.keeper.start();
  }

  /** Names this process's hold on work in the store. */
  get owner(): string {
    return this.deps.queue.holder;
  }

  /**
   * Fast path: deliveries just accepted, held by this process, start now; those whose endpoint or tenant
   * holds its share are parked in the store (see hold). A stopping process releases them: their hold
   * runs out and they are taken like any other work. `body`, the first item's message's, goes into the
   * body cache; without it attempts read it themselves.
   */
  submit(items: HeldDelivery[], body?: string): void {
    if (this.stopped) {
      this.deps.queue.release(items).catch((err: unknown) => this.deps.log.warn("releasing deliveries failed; their hold runs out", errorFields(err)));
      return;
    }
    const messageId = items[0]?.delivery.messageId;
    if (messageId !== undefined && body !== undefined) this.bodies.put(messageId, body);
    for (const item of items) this.hold(item);
    // Every delivery parked (their shares full): nothing here will read the body.
    if (messageId !== undefined && !this.heldPerMessage.has(messageId)) this.bodies.drop(messageId);
  }

  /** Calls the listener with each delivery state once it is stored. */
  watch(listener: Listener): () => void {
    return this.notifier.watch(listener);
  }

  /** Looks for work in the store now rather than at the next poll (another process's holds were just released). */
  lookNow(): void {
    this.keeper.wake(0);
  }

  /** Shares delivery states with other worker processes' watchers (server/cluster/worker.ts). */
  relayStates(relay: NotifierRelay): void {
    this.notifier.relayTo(relay);
  }

  /** A delivery state another worker stored: told to the watchers here. */
  relayedState(doc: Delivery): void {
    this.notifier.relayed(doc);
  }

  /**
   * Resolves with the delivery once it is delivered or failed and that is stored. This process's own outcomes
   * are announced (the notifier); while the delivery is not held here (parked, released for a later retry, or
   * taken over by another process), its stored state is looked at too, at growing intervals, since another
   * process's outcome is announced only to that process.
   */
  finished(tenant: string, id: string, signal?: AbortSignal): Promise<Delivery> {
    const announced = this.notifier.finished(id, signal);
    const stored = this.deps.deliveries;
    if (!stored) return announced;
    return new Promise<Delivery>((resolve, reject) => {
      let timer: unknown;
      let wait = FINISHED_FIRST_LOOK_MS;
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) this.clock.clearTimeout(timer);
        fn();
      };
      const look = async () => {
        timer = undefined;
        if (!this.held.has(id)) {
          const doc = await stored.get(tenant, id).catch(() => null); // a failed read: looked at again later
          if (doc && doc.status !== "pending") return settle(() => resolve(doc));
        }
        if (settled) return;
        wait = Math.min(wait * 2, FINISHED_LAST_LOOK_MS);
        timer = this.clock.setTimeout(() => void look(), wait);
      };
      announced.then(
        (doc) => settle(() => resolve(doc)),
        (err: unknown) => settle(() => reject(err)),
      );
      timer = this.clock.setTimeout(() => void look(), wait);
    });
  }

  get stats(): { held: number; inFlight: number; unwritten: number; cachedBodyBytes: number } {
    return { held: this.held.size, inFlight: this.scheduler.inFlight, unwritten: this.deps.queue.unwritten, cachedBodyBytes: this.bodies.size.bytes };
  }

  /** Holds the delivery when its share has room (see shares.ts), making room by parking another if it must; else parks it. */
  private hold(item: HeldDelivery): void {
    const doc = item.delivery;
    if (this.stopped || this.held.has(doc._id)) return;
    const endpoint = lineOf(doc);
    const admission = this.held.size < this.opts.maxHeld ? this.shares.admit(doc.tenant, endpoint) : { fits: false as const };
    if (!admission.fits) return this.park(item, doc);
    if (admission.evict) {
      const other = admission.evict;
      this.scheduler.withdraw(other);
      this.forget(other);
      this.park(other.item, other.doc);
    }
    const held: Held = { item, doc, endpoint, tenant: doc.tenant, subscriptionId: doc.subscriptionId, paced: doc.subscriptionId !== "", running: false, timer: undefined };
    this.held.set(doc._id, held);
    this.heldPerMessage.set(doc.messageId, (this.heldPerMessage.get(doc.messageId) ?? 0) + 1);
    this.shares.add(held);
    this.scheduler.after(held, doc.nextAttemptAt.getTime() - this.clock.now());
  }

  /**
   * Leaves a delivery in the store instead of memory: stored as it stands, due when it was, held by
   * nobody; takes leave it there while its endpoint's share is full, and take it once there is room.
   */
  private park(item: HeldDelivery, doc: Delivery): void {
    this.deps.metrics.deliveryParked();
    void this.deps.queue.record(item, { ...doc, updatedAt: new Date(this.clock.now()) }, false);
  }

  /** The delivery leaves memory, and its share. */
  private forget(held: Held): void {
    if (!this.held.delete(held.doc._id)) return;
    this.shares.remove(held);
    const messageId = held.doc.messageId;
    const left = (this.heldPerMessage.get(messageId) ?? 1) - 1;
    if (left > 0) this.heldPerMessage.set(messageId, left);
    else {
      this.heldPerMessage.delete(messageId);
      this.bodies.drop(messageId);
    }
  }


  private async run(held: Held): Promise<void> {
    held.running = true;
    const outcome = await this.worker.attempt(held.doc);
    if (outcome.kind !== "interrupted") {
      reportAttempt(this.deps.log, this.deps.metrics, outcome);
      if (outcome.sent && held.doc.subscriptionId) this.noteHealth(outcome.next);
      // A finished delivery counts once towards its endpoint's recent success rate, whatever its attempts.
      if (outcome.kind === "final" && outcome.sent && held.doc.subscriptionId) this.health?.finished(held.doc.tenant, held.doc.subscriptionId, outcome.next.status === "delivered");
    }
    switch (outcome.kind) {
      case "interrupted": {
        // Handed back uncounted, due now, for any process to take at once.
        const now = new Date(this.clock.now());
        return this.record(held, { ...held.doc, updatedAt: now, nextAttemptAt: now }, false);
      }
      case "final":
        if (outcome.gone && held.doc.subscriptionId) {
          await this.endpoints?.gone(held.doc).catch((err: unknown) => this.deps.log.warn("disabling a gone subscription failed", errorFields(err)));
        }
        if (outcome.sent && outcome.next.status === "failed" && held.doc.subscriptionId && this.endpoints) {
          const doc = outcome.next;
          this.endpoints.exhausted(doc).catch((err: unknown) => this.deps.log.warn("announcing an exhausted delivery failed", { delivery: doc._id, ...errorFields(err) }));
        }
        return this.record(held, outcome.next, false);
      case "retry": {
        const keep = outcome.afterMs < this.opts.holdRetriesUnderMs && !this.stopped;
        this.record(held, outcome.next, keep);
        if (keep) {
          held.doc = outcome.next;
          held.running = false;
          this.scheduler.after(held, outcome.afterMs);
        } else this.keeper.wake(outcome.afterMs);
      }
    }
  }

  /** The attempt just made counts towards its subscription's health (written about once a second). */
  private noteHealth(next: Delivery): void {
    const attempt = next.attempts[next.attempts.length - 1];
    if (!attempt || !this.health) return;
    const ok = next.status === "delivered";
    this.health.note(next.tenant, next.subscriptionId, attempt.at, ok, ok ? "" : attemptError(attempt));
  }

  /** Stores a new state (announced once stored); what is not kept leaves memory. */
  private record(held: Held, next: Delivery, keep: boolean): void {
    if (!keep) this.forget(held);
    void this.deps.queue.record(held.item, next, keep).then(() => this.notifier.announce(next));
  }

  /**
   * Stops taking work and lets attempts in flight finish for up to graceMs; then aborts the rest
   * (handed back uncounted), stores every outcome and releases what this process holds, for any
   * process to take at once.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.keeper.stop();
    this.scheduler.stop();
    for (const h of this.held.values()) this.scheduler.cancel(h);
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.scheduler.running), new Promise((r) => (graceTimer = setTimeout(r, graceMs)))]);
    clearTimeout(graceTimer);
    if (this.scheduler.running.size > 0) {
      this.deps.log.info("shutdown grace over: interrupting attempts in flight; they are retried at once by any process", { inFlight: this.scheduler.running.size });
      this.interrupt.abort();
      await Promise.all(this.scheduler.running);
    }
    await Promise.all([this.deps.queue.flush(Date.now() + 5000), this.health?.drain(Date.now() + 5000)]);
    await this.deps.queue.releaseAll().catch(() => undefined);
    await this.deps.sender.destroy();
  }
}
