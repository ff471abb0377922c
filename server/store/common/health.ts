// Subscription health in a collection of its own, one document per subscription keyed by its id: its
// frequent writes never rewrite a subscription (FerretDB rewrites the whole document it updates, not
// atomically, so sharing one would race UpdateSubscription), and each write is one update by _id, the
// one filter FerretDB answers from its index. Counters are $inc so processes sharing a database add up;
// last times are $max, the start of a failing streak $min (kept when already set), all supported by
// FerretDB 1.24. On FerretDB two processes' writes to one document can still interleave and lose a
// count (its updates read, change and rewrite); on MongoDB proper each is atomic.
//
// Recent delivery counts (the success rate an operator reads) are kept counters too: a ring of
// RECENT_WINDOW_HOURS hourly slots, `hours.<hour % 24>` = { h: the hour, ok, failed }. A write $incs its
// hour's slot; the first write of an hour (as this process knows it) first resets a slot still holding
// an hour a day old, by an update whose filter says so, so two processes never both reset it. A read sums
// the slots of the last RECENT_WINDOW_HOURS hours: no walk of the delivery log, whatever it holds.
import type { Collection, Filter, UpdateFilter } from "mongodb";
import type { HealthChange, HealthLog, SubscriptionHealth } from "../../ports.js";
import { RECENT_WINDOW_HOURS } from "../../domain/model.js";
import { upserting } from "./duplicate-key.js";

interface HourSlot {
  h?: number;
  ok?: number;
  failed?: number;
}

interface HealthDoc {
  _id: string;
  tenant: string;
  succeeded: number;
  failed: number;
  lastSuccessAt?: Date;
  lastFailureAt?: Date;
  lastError?: string;
  failingSince?: Date;
  streak: number;
  /** The recent deliveries' ring, keyed by hour % RECENT_WINDOW_HOURS. */
  hours?: Record<string, HourSlot>;
}

const HOUR_MS = 3_600_000;
const slotOf = (hour: number) => String(hour % RECENT_WINDOW_HOURS);

/** The recent counts a document's ring holds at `nowMs`: its slots of the last RECENT_WINDOW_HOURS hours. */
export function recentOf(hours: Record<string, HourSlot> | undefined, nowMs: number): { ok: number; failed: number } {
  const now = Math.floor(nowMs / HOUR_MS);
  let ok = 0;
  let failed = 0;
  for (const slot of Object.values(hours ?? {})) {
    if (typeof slot.h !== "number" || slot.h > now || slot.h <= now - RECENT_WINDOW_HOURS) continue;
    ok += slot.ok ?? 0;
    failed += slot.failed ?? 0;
  }
  return { ok, failed };
}

/** Writes (and reads) in flight at once: enough to overlap round trips, few enough to leave the pool to the API. */
const AT_ONCE = 8;

function healthOf(doc: HealthDoc): SubscriptionHealth {
  const recent = recentOf(doc.hours, Date.now());
  return {
    recentDeliveriesSucceeded: recent.ok,
    recentDeliveriesFailed: recent.failed,
    attemptsSucceeded: doc.succeeded ?? 0,
    attemptsFailed: doc.failed ?? 0,
    lastSuccessAt: doc.lastSuccessAt,
    lastFailureAt: doc.lastFailureAt,
    lastError: doc.lastError ?? "",
    failingSince: doc.failingSince,
    consecutiveFailures: doc.streak ?? 0,
  };
}

/** One change as one update; the streak is replaced after a success, added to otherwise. */
function updateOf(c: HealthChange): UpdateFilter<HealthDoc> {
  const set: Partial<HealthDoc> = {};
  const max: Partial<HealthDoc> = {};
  const inc: Partial<Record<"succeeded" | "failed" | "streak", number>> = { succeeded: c.succeeded, failed: c.failed };
  const update: UpdateFilter<HealthDoc> = { $setOnInsert: { tenant: c.tenant } };
  if (c.lastSuccessAt) max.lastSuccessAt = c.lastSuccessAt;
  if (c.lastFailureAt) max.lastFailureAt = c.lastFailureAt;
  if (c.failed > 0) set.lastError = c.lastError;
  if (c.cleared) {
    set.streak = c.streakFailures;
    if (c.streakSince) set.failingSince = c.streakSince;
    else update.$unset = { failingSince: "" };
  } else {
    inc.streak = c.streakFailures;
    if (c.streakSince) update.$min = { failingSince: c.streakSince };
  }
  const incs: Record<string, number> = inc;
  const maxes: Record<string, unknown> = max;
  if (c.hour !== undefined && (c.deliveriesSucceeded || c.deliveriesFailed)) {
    const slot = `hours.${slotOf(c.hour)}`;
    incs[`${slot}.ok`] = c.deliveriesSucceeded ?? 0;
    incs[`${slot}.failed`] = c.deliveriesFailed ?? 0;
    // Stamps a slot the upsert creates (a reset found none to reset); an older stamp was reset before.
    maxes[`${slot}.h`] = c.hour;
  }
  update.$inc = incs;
  if (Object.keys(set).length > 0) update.$set = set;
  if (Object.keys(maxes).length > 0) update.$max = maxes;
  return update;
}

async function inChunks<T>(items: T[], each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += AT_ONCE) await Promise.all(items.slice(i, i + AT_ONCE).map(each));
}

export class HealthStore implements HealthLog {
  /** The hour this process last made sure each subscription's slot holds (pruned to the current hour). */
  private readonly slotReady = new Map<string, number>();

  constructor(private readonly col: Collection<HealthDoc>) {}

  /**
   * Before an hour's first counts: a slot still holding an hour a day old (or more) starts again at zero,
   * stamped with this hour. Its filter picks only such a slot, so of two processes one resets it and the
   * other finds it current; a subscription with no document yet has nothing to reset.
   */
  private async readySlot(id: string, hour: number): Promise<void> {
    if (this.slotReady.get(id) === hour) return;
    const slot = `hours.${slotOf(hour)}`;
    const stale = { _id: id, [`${slot}.h`]: { $lt: hour } } as Filter<HealthDoc>;
    await this.col.updateOne(stale, { $set: { [slot]: { h: hour, ok: 0, failed: 0 } } } as UpdateFilter<HealthDoc>);
    if (this.slotReady.size > 10_000) for (const [k, h] of this.slotReady) if (h !== hour) this.slotReady.delete(k);
    this.slotReady.set(id, hour);
  }

  async add(changes: HealthChange[]): Promise<Map<string, SubscriptionHealth>> {
    const failing = new Map<string, SubscriptionHealth>();
    await inChunks(changes, async (c) => {
      const filter = { _id: c.subscriptionId };
      if (c.hour !== undefined && (c.deliveriesSucceeded || c.deliveriesFailed)) await this.readySlot(c.subscriptionId, c.hour);
      const update = updateOf(c);
      if (c.streakFailures === 0) {
        await upserting(() => this.col.updateOne(filter, update, { upsert: true }));
        return;
      }
      // Only a change that leaves the endpoint failing needs the stored streak back, to judge it.
      const doc = await upserting(() => this.col.findOneAndUpdate(filter, update, { upsert: true, returnDocument: "after" }));
      if (doc && doc.tenant === c.tenant) failing.set(c.subscriptionId, healthOf(doc));
    });
    return failing;
  }

  async get(tenant: string, ids: string[]): Promise<Map<string, SubscriptionHealth>> {
    const out = new Map<string, SubscriptionHealth>();
    // By _id one at a time (a few concurrently): FerretDB matches an $in list against every document.
    await inChunks([...new Set(ids)], async (_id) => {
      const doc = await this.col.findOne({ _id });
      if (doc && doc.tenant === tenant) out.set(_id, healthOf(doc));
    });
    return out;
  }

  async restartStreak(tenant: string, id: string): Promise<void> {
    const doc = await this.col.findOne({ _id: id });
    if (!doc || doc.tenant !== tenant) return;
    await this.col.updateOne({ _id: id }, { $set: { streak: 0 }, $unset: { failingSince: "" } });
  }

  async drop(tenant: string, id: string): Promise<void> {
    const doc = await this.col.findOne({ _id: id });
    if (doc && doc.tenant === tenant) await this.col.deleteOne({ _id: id });
  }
}
