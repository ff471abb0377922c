// Deliveries live in two collections: the queue holds only unfinished work (what the dispatcher scans,
// kept small because FerretDB scans whole collections), the log holds finished deliveries for the log RPCs.
import type { AnyBulkWriteOperation, Collection, Filter } from "mongodb";
import type { RetryPolicy } from "../delivery/policy.js";
import type { PreviousSecret } from "./subscriptions.js";
import { duplicateIndexes, GroupCommit } from "./group-commit.js";

export type DeliveryState = "pending" | "delivered" | "failed";

export interface AttemptDoc {
  at: Date;
  durationMs: number;
  statusCode: number;
  excerpt: string;
  error: string;
}

export interface DeliveryDoc {
  _id: string;
  tenant: string;
  messageId: string;
  /** Empty for deliveries made by Send. */
  subscriptionId: string;
  url: string;
  /** Signs each attempt; never logged or returned. */
  secret: string;
  /** Rotated-out secrets that also sign webhook-signature until they expire. */
  previousSecrets?: PreviousSecret[];
  event: string;
  policy: RetryPolicy;
  status: DeliveryState;
  attempts: AttemptDoc[];
  createdAt: Date;
  updatedAt: Date;
  nextAttemptAt: Date;
  /** A random number below SHARDS: lets a claim take a part of a large backlog without listing ids. */
  shard: number;
  /** Process that holds the delivery until leaseUntil; an expired lease lets any process take it. */
  leaseOwner: string;
  leaseUntil: Date;
  /** Set by a claim, to read back what the claim won. */
  claimToken?: string;
  /** Set when Redeliver made this delivery. */
  redeliveryOf?: string;
}

export const UNLEASED = new Date(0);

export const SHARDS = 64;
export const randomShard = () => Math.floor(Math.random() * SHARDS);


export interface DeliveryQuery {
  tenant: string;
  messageId?: string | undefined;
  subscriptionId?: string | undefined;
  status?: DeliveryState | undefined;
  afterId?: string | undefined;
  limit: number;
}

export class DeliveryStore {
  private readonly enqueues: GroupCommit<DeliveryDoc[], undefined>;
  /** About how many deliveries the queue holds: counted at start, then kept by this process's own writes. */
  private queueSize = 0;

  constructor(
    private readonly queue: Collection<DeliveryDoc>,
    private readonly log: Collection<DeliveryDoc>,
  ) {
    this.enqueues = new GroupCommit(async (groups) => {
      const docs = groups.flat();
      if (docs.length > 0) await this.queue.insertMany(docs, { ordered: false });
      this.queueSize += docs.length;
      return groups.map(() => undefined);
    });
  }

  async ensureIndexes(): Promise<void> {
    this.queueSize = await this.queue.estimatedDocumentCount();
    await this.queue.createIndex({ nextAttemptAt: 1, leaseUntil: 1 });
    await this.queue.createIndex({ shard: 1, nextAttemptAt: 1 });
    await this.queue.createIndex({ claimToken: 1 });
    await this.queue.createIndex({ leaseOwner: 1 });
    await this.queue.createIndex({ tenant: 1, subscriptionId: 1 });
    await this.log.createIndex({ tenant: 1, messageId: 1, _id: 1 });
    await this.log.createIndex({ tenant: 1, subscriptionId: 1, _id: 1 });
  }

  /** One insert for any number of deliveries, shared with concurrent callers. */
  async enqueue(docs: DeliveryDoc[]): Promise<void> {
    if (docs.length > 0) await this.enqueues.add(docs);
  }

  /**
   * Leases due deliveries whose lease has expired, about `limit` of them: with no more due than that,
   * all of them; with a larger backlog, the due ones of one shard. The lease is set by one guarded
   * update and read back by its token. Neither step lists ids: FerretDB matches $in element by element
   * for every document it scans, which grows with backlog times batch. On MongoDB the guarded update is
   * atomic; on FerretDB two processes may both win a delivery: a duplicate, never a loss.
   */
  async claimDue(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<DeliveryDoc[]> {
    const due = { nextAttemptAt: { $lte: now }, leaseUntil: { $lte: now } };
    // No sort: FerretDB would have to read the whole queue to sort it, and stops early without one.
    const sample = await this.queue.find(due, { projection: { _id: 1, shard: 1 } }).limit(limit + 1).toArray();
    if (sample.length === 0) return [];
    const filter: Filter<DeliveryDoc> = sample.length <= limit ? due : { ...due, shard: sample[0]!.shard };
    const claimToken = `${owner}:${now.getTime()}:${Math.random().toString(36).slice(2)}`;
    await this.queue.updateMany(filter, { $set: { leaseOwner: owner, leaseUntil, claimToken } });
    return this.queue.find({ claimToken }).toArray();
  }

  /** Extends every lease this process holds (no id list, for the reason claimDue gives). */
  async renew(owner: string, leaseUntil: Date): Promise<void> {
    await this.queue.updateMany({ leaseOwner: owner }, { $set: { leaseUntil } });
  }

  /** Hands back every delivery this process holds, for any process to take at once. */
  async releaseAll(owner: string): Promise<void> {
    await this.queue.updateMany({ leaseOwner: owner }, { $set: { leaseOwner: "", leaseUntil: UNLEASED } });
  }

  /**
   * Writes a batch of outcomes: unfinished deliveries are updated in the queue, finished ones are
   * written to the log first and removed from the queue after, so a crash between the two leaves a
   * duplicate delivery at worst, never a lost one.
   */
  async writeOutcomes(retrying: DeliveryDoc[], finished: DeliveryDoc[]): Promise<void> {
    if (retrying.length > 0) {
      const ops: AnyBulkWriteOperation<DeliveryDoc>[] = retrying.map((d) => ({
        updateOne: {
          filter: { _id: d._id },
          update: {
            $set: {
              attempts: d.attempts,
              nextAttemptAt: d.nextAttemptAt,
              leaseOwner: d.leaseOwner,
              leaseUntil: d.leaseUntil,
              updatedAt: d.updatedAt,
              status: d.status,
            },
          },
        },
      }));
      await this.queue.bulkWrite(ops, { ordered: false });
    }
    if (finished.length > 0) {
      // Plain inserts: an upsert would look each id up first, and FerretDB answers that by scanning the log.
      try {
        await this.log.insertMany(
          finished.map(({ claimToken: _claimed, ...d }) => ({ ...d, leaseOwner: "" })),
          { ordered: false },
        );
      } catch (err) {
        // Already logged by an earlier attempt of this same batch: the rows are there, which is what counts.
        duplicateIndexes(err);
      }
      await this.dropIds(finished.map((d) => d._id));
    }
  }

  async get(tenant: string, id: string): Promise<DeliveryDoc | null> {
    const doc = (await this.queue.findOne({ _id: id })) ?? (await this.log.findOne({ _id: id }));
    return doc && doc.tenant === tenant ? doc : null;
  }

  /** Pending and finished deliveries together, in id (creation) order. */
  async list(q: DeliveryQuery): Promise<DeliveryDoc[]> {
    const filter: Filter<DeliveryDoc> = { tenant: q.tenant };
    if (q.messageId) filter.messageId = q.messageId;
    if (q.subscriptionId) filter.subscriptionId = q.subscriptionId;
    if (q.status) filter.status = q.status;
    if (q.afterId) filter._id = { $gt: q.afterId };
    const [pending, done] = await Promise.all(
      [this.queue, this.log].map((c) => c.find(filter).sort({ _id: 1 }).limit(q.limit).toArray()),
    );
    // A delivery caught between log insert and queue delete appears once, as its finished self.
    const byId = new Map<string, DeliveryDoc>();
    for (const d of [...(pending ?? []), ...(done ?? [])]) byId.set(d._id, d);
    return [...byId.values()].sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0)).slice(0, q.limit);
  }

  /**
   * Removes deliveries from the queue. On FerretDB one $in filter costs a scan of the whole queue
   * (about 0.1 ms a document) whatever the batch, and _id-by-_id statements cost about 0.5 ms each
   * (an index lookup, but a statement's overhead), so the cheaper of the two is chosen by sizes.
   */
  async dropIds(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    if (ids.length * 5 < this.queueSize) {
      await this.queue.bulkWrite(ids.map((_id) => ({ deleteOne: { filter: { _id } } })), { ordered: false });
    } else {
      await this.queue.deleteMany({ _id: { $in: ids } });
    }
    this.queueSize = Math.max(0, this.queueSize - ids.length);
  }

  /** Drops a deleted subscription's unfinished deliveries. */
  async dropForSubscription(tenant: string, subscriptionId: string): Promise<void> {
    await this.queue.deleteMany({ tenant, subscriptionId });
  }
}
