// Subscription health in a collection of its own, one document per subscription keyed by its id: its
// frequent writes never rewrite a subscription (FerretDB rewrites the whole document it updates, not
// atomically, so sharing one would race UpdateSubscription), and each write is one update by _id, the
// one filter FerretDB answers from its index. Counters are $inc so processes sharing a database add up;
// last times are $max, the start of a failing streak $min (kept when already set), all supported by
// FerretDB 1.24. On FerretDB two processes' writes to one document can still interleave and lose a
// count (its updates read, change and rewrite); on MongoDB proper each is atomic.
import type { Collection, UpdateFilter } from "mongodb";
import type { HealthChange, HealthLog, SubscriptionHealth } from "../../ports.js";
import { upserting } from "./duplicate-key.js";

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
}

/** Writes (and reads) in flight at once: enough to overlap round trips, few enough to leave the pool to the API. */
const AT_ONCE = 8;

function healthOf(doc: HealthDoc): SubscriptionHealth {
  return {
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
  update.$inc = inc;
  if (Object.keys(set).length > 0) update.$set = set;
  if (Object.keys(max).length > 0) update.$max = max;
  return update;
}

async function inChunks<T>(items: T[], each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += AT_ONCE) await Promise.all(items.slice(i, i + AT_ONCE).map(each));
}

export class HealthStore implements HealthLog {
  constructor(private readonly col: Collection<HealthDoc>) {}

  async add(changes: HealthChange[]): Promise<Map<string, SubscriptionHealth>> {
    const failing = new Map<string, SubscriptionHealth>();
    await inChunks(changes, async (c) => {
      const filter = { _id: c.subscriptionId };
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
