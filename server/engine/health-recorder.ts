// Subscription health, gathered per subscription in memory as attempts finish and written in one go
// about once a second: the store takes a few hundred updates a second, so nothing here writes once per
// attempt. Each touched subscription costs one write per flush, however many attempts it made; a flush
// waits for the one before, so a backlog of touched subscriptions slows the flushes, never the attempts.
//
// A subscription that keeps succeeding is written at most once per quiet interval (30 s by default), and
// such writes at most CLEAN_WRITES_PER_FLUSH a flush: with 100,000 customers' endpoints in a tenant, one
// health write per endpoint reached per second was what held back the Triggers of a busy set of owners
// (bench/README.md, the owners figure), and one per endpoint per 30 s still was. Everything that changes
// what an operator or the disable rule acts on is written at the next flush as before: any failure, and the
// first success after one (or the first this process sees of a subscription), which clears its streak.
import { errorFields, type Logger } from "../telemetry/log.js";
import type { Clock, HealthChange, HealthLog, SubscriptionHealth } from "../ports.js";

/**
 * Clean successes written per flush at most, once their quiet intervals are over. What an endpoint that keeps
 * succeeding costs the store is so bounded however many are busy: 1,000 customers' endpoints reached every
 * second were 33 writes a second at one per 30 s each, and those writes, not the Triggers themselves, were
 * what set the busy owners' Trigger p99 above the one-owner baseline's (bench/README.md, the owners figure).
 * With more endpoints than this writes in an interval, each is written less often (1,000 busy ones: about
 * every 100 s at one flush a second).
 */
const CLEAN_WRITES_PER_FLUSH = 10;

export interface HealthRecorderDeps {
  store: HealthLog;
  clock: Clock;
  log: Logger;
  /** Called after a flush for each subscription it left failing, with its health as stored. */
  onFailing(tenant: string, subscriptionId: string, health: SubscriptionHealth): void;
}

export class HealthRecorder {
  private pending = new Map<string, HealthChange>();
  /**
   * Until when a subscription's next clean successes may wait, for those this process last wrote as a clean
   * success (no failure, streak 0): the quiet interval from that write. In the order of those writes.
   */
  private quietTill = new Map<string, number>();
  private timer: unknown;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly deps: HealthRecorderDeps,
    private readonly flushMs = 1000,
    private readonly quietMs = 30_000,
  ) {}

  /** One attempt that reached for the endpoint (not one Hookwire could not send): a few field updates. */
  note(tenant: string, subscriptionId: string, at: Date, ok: boolean, error: string): void {
    let c = this.pending.get(subscriptionId);
    if (!c) {
      c = { tenant, subscriptionId, succeeded: 0, failed: 0, lastError: "", cleared: false, streakFailures: 0 };
      this.pending.set(subscriptionId, c);
    }
    if (ok) {
      c.succeeded++;
      c.lastSuccessAt = at;
      c.cleared = true;
      c.streakFailures = 0;
      c.streakSince = undefined;
    } else {
      c.failed++;
      c.lastFailureAt = at;
      c.lastError = error;
      if (c.streakFailures++ === 0) c.streakSince = at;
    }
    this.schedule();
  }

  /**
   * A delivery that finished with an attempt sent, by its outcome (one that succeeded after retries is one
   * success): what the recent success rate counts, beside the attempt noted by note().
   */
  finished(tenant: string, subscriptionId: string, ok: boolean): void {
    const c = this.pending.get(subscriptionId);
    // note() ran for its last attempt just before, so the change is there; a missing one is made bare.
    const change = c ?? { tenant, subscriptionId, succeeded: 0, failed: 0, lastError: "", cleared: false, streakFailures: 0 };
    if (ok) change.deliveriesSucceeded = (change.deliveriesSucceeded ?? 0) + 1;
    else change.deliveriesFailed = (change.deliveriesFailed ?? 0) + 1;
    if (!c) this.pending.set(subscriptionId, change);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.flushing) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushMs);
  }

  /**
   * Splits off what is due (everything when `all`): every failure and every first success after one or of a
   * subscription not written lately, at once; clean successes of subscriptions past their quiet interval, at
   * most CLEAN_WRITES_PER_FLUSH of them, those written longest ago first; the rest stay gathered.
   */
  private due(all: boolean): Map<string, HealthChange> {
    if (all || this.quietTill.size === 0) {
      const batch = this.pending;
      this.pending = new Map();
      return batch;
    }
    const now = this.deps.clock.now();
    const batch = new Map<string, HealthChange>();
    // quietTill is in the order of the writes (each write sets its entry anew, at the end), so in the order
    // of the intervals' ends: past the first still running, none has ended.
    let clean = 0;
    for (const [id, till] of this.quietTill) {
      if (clean >= CLEAN_WRITES_PER_FLUSH || now < till) break;
      const c = this.pending.get(id);
      // Nothing gathered since its quiet interval ended: its next success is written at once.
      if (!c) this.quietTill.delete(id);
      else if (c.failed === 0) {
        batch.set(id, c);
        this.pending.delete(id);
        this.quietTill.delete(id);
        clean++;
      }
    }
    for (const [id, c] of this.pending) {
      if (c.failed === 0 && this.quietTill.has(id)) continue;
      batch.set(id, c);
      this.pending.delete(id);
    }
    return batch;
  }

  /**
   * Writes what is due (everything when `all`); a failed write keeps it, merged under what came meanwhile,
   * for the next flush.
   */
  flush(all = false): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.due(all);
    if (batch.size === 0) {
      this.schedule();
      return Promise.resolve();
    }
    // The recent counts go in the hour they are written in (a flush is at most the quiet interval late).
    const hour = Math.floor(this.deps.clock.now() / 3_600_000);
    for (const c of batch.values()) if (c.deliveriesSucceeded || c.deliveriesFailed) c.hour = hour;
    this.flushing = (async () => {
      try {
        const failing = await this.deps.store.add([...batch.values()]);
        const now = this.deps.clock.now();
        for (const [id, c] of batch) {
          if (c.failed === 0 && c.streakFailures === 0) {
            if (!this.quietTill.has(id)) this.quietTill.set(id, now + this.quietMs);
          } else this.quietTill.delete(id);
        }
        for (const [id, health] of failing) this.deps.onFailing(batch.get(id)!.tenant, id, health);
      } catch (err) {
        this.deps.log.warn("writing subscription health failed; will retry", { subscriptions: batch.size, ...errorFields(err) });
        for (const [id, older] of batch) {
          const newer = this.pending.get(id);
          this.pending.set(id, newer ? merged(older, newer) : older);
        }
      } finally {
        this.flushing = undefined;
        if (this.pending.size > 0) this.schedule();
      }
    })();
    return this.flushing;
  }

  /** At shutdown: what is gathered is written, within the deadline. */
  async drain(deadline: number): Promise<void> {
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    while ((this.pending.size > 0 || this.flushing) && Date.now() < deadline) {
      await this.flush(true);
      if (this.pending.size > 0) await new Promise((r) => setTimeout(r, 100));
    }
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** An unwritten change followed by a newer one of the same subscription, as one. */
function merged(a: HealthChange, b: HealthChange): HealthChange {
  return {
    tenant: a.tenant,
    subscriptionId: a.subscriptionId,
    succeeded: a.succeeded + b.succeeded,
    failed: a.failed + b.failed,
    lastSuccessAt: b.lastSuccessAt ?? a.lastSuccessAt,
    lastFailureAt: b.lastFailureAt ?? a.lastFailureAt,
    lastError: b.failed > 0 ? b.lastError : a.lastError,
    cleared: a.cleared || b.cleared,
    streakFailures: b.cleared ? b.streakFailures : a.streakFailures + b.streakFailures,
    streakSince: b.cleared ? b.streakSince : (a.streakSince ?? b.streakSince),
    deliveriesSucceeded: (a.deliveriesSucceeded ?? 0) + (b.deliveriesSucceeded ?? 0),
    deliveriesFailed: (a.deliveriesFailed ?? 0) + (b.deliveriesFailed ?? 0),
  };
}
