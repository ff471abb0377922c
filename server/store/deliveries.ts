// Deliveries live in three collections, kept apart because FerretDB scans whole collections: batches
// hold a Trigger's deliveries until each has its first outcome, the queue holds deliveries waiting for a
// retry (what the engine claims from), the log holds finished deliveries for the log RPCs. A Trigger's
// first batch (up to BATCH_DELIVERIES) is held in its message document, so a Trigger is one write; a
// larger fan-out's further batches are rows of delivery_batches. Either is a batch here, told apart by
// its id (a message's id, or a bat_ id).
import type { AnyBulkWriteOperation, Collection, Document, Filter } from "mongodb";
import type { Delivery, DeliveryQuery } from "../ports.js";
import { duplicateIndexes, GroupCommit } from "./group-commit.js";
import { byIdOrder, logFilter } from "./log-query.js";
import { ensureWalkIndex } from "./walk-index.js";
import type { MessageDoc } from "./messages.js";
import type { SendSecretStore } from "./send-secrets.js";

/** A delivery as stored: with the fields that let a process hold it and others take it over. */
export interface DeliveryDoc extends Delivery {
  /** Process that holds the delivery until leaseUntil; an expired lease lets any process take it. */
  leaseOwner: string;
  leaseUntil: Date;
  /** Set by a claim, to read back what the claim won. */
  claimToken?: string;
}

export const UNLEASED = new Date(0);

/** A batch stays well under MongoDB's 16 MB document limit (a delivery is about 500 bytes). */
export const BATCH_DELIVERIES = 500;

/** A batch held in its message document rather than in a row of its own. */
export const isMessageBatch = (batchId: string) => batchId.startsWith("msg_");

/** What a message document no longer needs once its batch is done. */
const MESSAGE_BATCH_FIELDS = { batchHeld: "", batch: "", leaseOwner: "", leaseUntil: "", claimToken: "" } as const;


/**
 * The fast path's record of a Trigger's deliveries: one small-collection row however many
 * subscribers, leased to the process that dispatches them. A delivery gets a queue row only when
 * its first attempt needs a retry, and a log row when it finishes; once every delivery of the batch
 * has one or the other, the batch row goes. A process that takes over an expired batch skips the
 * deliveries that already have a row.
 */
export interface BatchDoc {
  _id: string;
  tenant: string;
  messageId: string;
  leaseOwner: string;
  leaseUntil: Date;
  claimToken?: string;
  createdAt: Date;
  deliveries: DeliveryDoc[];
}

/** An outcome to store; rowExists says whether the delivery has a queue row to update or delete. */
export interface Outcome {
  doc: DeliveryDoc;
  rowExists: boolean;
}

/** Marks done the one-time removal of secrets that rows written by earlier versions carried. */
interface MetaDoc {
  _id: string;
  at: Date;
}


/**
 * Leases up to `limit` rows matching `due`: with no more due than that, all of them in one guarded
 * update; with a larger backlog, the first `limit` found, each by its _id (an index lookup) guarded by
 * `due`, in commands of UPDATES_PER_COMMAND. So a claim costs what it takes, not what the backlog holds:
 * a filter on anything but _id is matched in Go over every row FerretDB reads (a claim of one shard of a
 * 1,000,000-row queue read every row: minutes), and an $in list is matched element by element. The
 * lease is read back by its token. On FerretDB two processes may both win a row (updates are not
 * atomic there): a duplicate delivery, never a lost one.
 */
async function claim<T extends { _id: string; claimToken?: string }>(
  col: Collection<T>,
  due: Filter<T>,
  owner: string,
  now: Date,
  leaseUntil: Date,
  limit: number,
): Promise<T[]> {
  // No sort: FerretDB would have to read the whole collection to sort it, and stops early without one.
  const sample = await col.find(due, { projection: { _id: 1 } }).limit(limit + 1).toArray();
  if (sample.length === 0) return [];
  const claimToken = `${owner}:${now.getTime()}:${Math.random().toString(36).slice(2)}`;
  const lease = { $set: { leaseOwner: owner, leaseUntil, claimToken } } as never;
  if (sample.length <= limit) await col.updateMany(due, lease);
  else await updatesInChunks(col, sample.slice(0, limit).map((s) => ({ updateOne: { filter: { ...due, _id: s._id } as Filter<T>, update: lease } })));
  return (await col.find({ claimToken } as Filter<T>).toArray()) as T[];
}

/**
 * FerretDB 1.24 keeps the cursor of every update statement in a command open until the command ends;
 * past about a hundred statements its SQLite connections run out and the command waits for ever (and
 * every other command with it). So updates go in commands of a few dozen statements.
 */
const UPDATES_PER_COMMAND = 50;

async function updatesInChunks<T extends Document>(col: Collection<T>, ops: AnyBulkWriteOperation<T>[]): Promise<void> {
  for (let i = 0; i < ops.length; i += UPDATES_PER_COMMAND) {
    await col.bulkWrite(ops.slice(i, i + UPDATES_PER_COMMAND), { ordered: false });
  }
}

export class DeliveryStore {
  private readonly enqueues: GroupCommit<DeliveryDoc[], undefined>;
  private readonly batchInserts: GroupCommit<BatchDoc, undefined>;

  constructor(
    private readonly queue: Collection<DeliveryDoc>,
    private readonly log: Collection<DeliveryDoc>,
    private readonly batches: Collection<BatchDoc>,
    private readonly messages: Collection<MessageDoc>,
    private readonly meta: Collection<MetaDoc>,
    /** Finished Sends' secrets go once their delivery is logged. */
    private readonly sendSecrets: SendSecretStore,
  ) {
    this.batchInserts = new GroupCommit(async (docs) => {
      await this.batches.insertMany(docs, { ordered: false });
      return docs.map(() => undefined);
    });
    this.enqueues = new GroupCommit(async (groups) => {
      const docs = groups.flat();
      if (docs.length > 0) await this.queue.insertMany(docs, { ordered: false });
      return groups.map(() => undefined);
    });
  }

  async ensureIndexes(): Promise<void> {
    await this.queue.createIndex({ nextAttemptAt: 1, leaseUntil: 1 });
    await this.queue.createIndex({ claimToken: 1 });
    await this.queue.createIndex({ leaseOwner: 1 });
    // A list page reads only its own rows through these (see walk-index.ts), in the queue as in the log.
    for (const col of [this.queue, this.log]) {
      await ensureWalkIndex(col, ["tenant", "messageId"]);
      await ensureWalkIndex(col, ["tenant", "subscriptionId"]);
      await ensureWalkIndex(col, ["tenant", "subscriptionId", "status"]);
    }
    await this.batches.createIndex({ leaseUntil: 1 });
    await this.batches.createIndex({ claimToken: 1 });
    await this.batches.createIndex({ leaseOwner: 1 });
    await this.batches.createIndex({ tenant: 1, messageId: 1 });
    // Led by the string equality every batch read of messages has, so FerretDB reads only held ones.
    await this.messages.createIndex({ batchHeld: 1, leaseOwner: 1 });
    await this.messages.createIndex({ batchHeld: 1, tenant: 1 });
    await this.messages.createIndex({ claimToken: 1 });
    await this.forgetLegacySecrets();
  }

  /**
   * Rows written before secrets were looked up at attempt time carried a copy of them. Removed once
   * (a marker records it), since the check itself reads every row.
   */
  private async forgetLegacySecrets(): Promise<void> {
    const marker = "delivery-rows-without-secrets";
    if (await this.meta.findOne({ _id: marker })) return;
    const unset = { $unset: { secret: "", previousSecrets: "" } } as never;
    await this.queue.updateMany({ secret: { $exists: true } }, unset);
    await this.log.updateMany({ secret: { $exists: true } }, unset);
    for await (const batch of this.batches.find({})) {
      const deliveries = batch.deliveries.map((d) => {
        const { secret: _s, previousSecrets: _p, ...rest } = d as DeliveryDoc & { secret?: string; previousSecrets?: unknown };
        return rest;
      });
      await this.batches.updateOne({ _id: batch._id }, { $set: { deliveries } });
    }
    await this.meta.updateOne({ _id: marker }, { $set: { at: new Date() } }, { upsert: true });
  }

  /** One row for a Trigger's deliveries, its insert shared with concurrent callers. */
  async enqueueBatch(batch: BatchDoc): Promise<void> {
    await this.batchInserts.add(batch);
  }

  /** Leases batches whose dispatching process stopped renewing them (see claim). */
  async claimBatches(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<BatchDoc[]> {
    const inMessages = await claim(this.messages, { batchHeld: "held", leaseUntil: { $lte: now } }, owner, now, leaseUntil, limit);
    const rows = await claim(this.batches, { leaseUntil: { $lte: now } }, owner, now, leaseUntil, limit);
    return [...inMessages.map(messageBatch), ...rows];
  }

  /**
   * Ends batches `owner` holds: a row goes, a message document drops its batch fields. One command
   * each: the owner's equality selects only the batches it holds (FerretDB reads just those through an
   * index and matches the ids in Go) and all of them change in one commit, where a statement per batch
   * costs a commit each. A batch whose hold moved on meanwhile is ended by id.
   */
  async dropBatches(owner: string, ids: string[]): Promise<void> {
    const rows = ids.filter((id) => !isMessageBatch(id));
    const inMessages = ids.filter(isMessageBatch);
    if (rows.length > 0) {
      const res = await this.batches.deleteMany({ leaseOwner: owner, _id: { $in: rows } });
      if (res.deletedCount < rows.length) await this.batches.bulkWrite(rows.map((_id) => ({ deleteOne: { filter: { _id } } })), { ordered: false });
    }
    if (inMessages.length > 0) {
      const res = await this.messages.updateMany({ batchHeld: "held", leaseOwner: owner, _id: { $in: inMessages } }, { $unset: MESSAGE_BATCH_FIELDS });
      if (res.matchedCount < inMessages.length) {
        await updatesInChunks(this.messages, inMessages.map((_id) => ({ updateOne: { filter: { _id }, update: { $unset: MESSAGE_BATCH_FIELDS } } })));
      }
    }
  }

  /** The batches held in this tenant's message documents and rows (only those, in flight: a small set). */
  private async batchesOf(tenant: string, messageId?: string): Promise<BatchDoc[]> {
    const inMessages = messageId
      ? [await this.messages.findOne({ _id: messageId })].filter((m): m is MessageDoc => m !== null && m.tenant === tenant && m.batchHeld === "held")
      : await this.messages.find({ batchHeld: "held", tenant }).toArray();
    const rows = await this.batches.find(messageId ? { tenant, messageId } : { tenant }).toArray();
    return [...inMessages.map(messageBatch), ...rows];
  }

  /** Which of these deliveries already have a queue or log row (by _id, one index lookup each). */
  async existing(ids: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100);
      const rows = await Promise.all(
        chunk.flatMap((id) => [this.queue.findOne({ _id: id }, { projection: { _id: 1 } }), this.log.findOne({ _id: id }, { projection: { _id: 1 } })]),
      );
      for (const r of rows) if (r) found.add(r._id);
    }
    return found;
  }

  /** One insert for any number of deliveries, shared with concurrent callers. */
  async enqueue(docs: DeliveryDoc[]): Promise<void> {
    if (docs.length > 0) await this.enqueues.add(docs);
  }

  /** Leases due deliveries whose lease has expired (see claim). */
  async claimDue(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<DeliveryDoc[]> {
    return claim(this.queue, { nextAttemptAt: { $lte: now }, leaseUntil: { $lte: now } }, owner, now, leaseUntil, limit);
  }

  /**
   * Extends this process's leases: every queue row it holds, and the batch rows it is working
   * through by id (the batches collection is small; a batch left behind by a Trigger that failed
   * half-way must expire, so it is not renewed).
   */
  async renew(owner: string, batchIds: string[], leaseUntil: Date): Promise<void> {
    await this.queue.updateMany({ leaseOwner: owner }, { $set: { leaseUntil } });
    const rows = batchIds.filter((id) => !isMessageBatch(id));
    const inMessages = batchIds.filter(isMessageBatch);
    if (rows.length > 0) await this.batches.updateMany({ _id: { $in: rows }, leaseOwner: owner }, { $set: { leaseUntil } });
    // One update led by indexed string equalities (FerretDB reads only this process's held batches). Not
    // an update per id: FerretDB 1.24 keeps every statement's cursor of a multi-statement update open
    // until the command ends, and a few hundred of them used up its SQLite connections (a deadlock).
    if (inMessages.length > 0) await this.messages.updateMany({ batchHeld: "held", leaseOwner: owner }, { $set: { leaseUntil } });
  }

  /**
   * Stops `owner` holding these queue rows (they are not renewed): any process may take them once
   * their lease ends. One command, selected by the owner (see dropBatches).
   */
  async disown(owner: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.queue.updateMany({ leaseOwner: owner, _id: { $in: ids } }, { $set: { leaseOwner: "" } });
  }

  /**
   * Stops `owner` holding these message batches (they are no longer renewed): any process may take
   * them once their lease ends. One command, selected by the owner (see dropBatches).
   */
  async disownBatches(owner: string, batchIds: string[]): Promise<void> {
    const inMessages = batchIds.filter(isMessageBatch);
    if (inMessages.length === 0) return;
    await this.messages.updateMany({ batchHeld: "held", leaseOwner: owner, _id: { $in: inMessages } }, { $set: { leaseOwner: "" } });
  }

  /** Hands back every delivery this process holds, for any process to take at once. */
  async releaseAll(owner: string): Promise<void> {
    await this.queue.updateMany({ leaseOwner: owner }, { $set: { leaseOwner: "", leaseUntil: UNLEASED } });
    await this.batches.updateMany({ leaseOwner: owner }, { $set: { leaseOwner: "", leaseUntil: UNLEASED } });
    await this.messages.updateMany({ batchHeld: "held", leaseOwner: owner }, { $set: { leaseOwner: "", leaseUntil: UNLEASED } });
  }

  /**
   * Writes a batch of outcomes. A retry updates the delivery's queue row, or inserts it when the
   * delivery so far had only its batch row. A finished delivery is written to the log first and
   * removed from the queue after, so a crash between the two leaves a duplicate delivery at worst,
   * never a lost one. Batches whose deliveries all have rows now go last.
   */
  async writeOutcomes(owner: string, retrying: Outcome[], finished: Outcome[], batchesDone: string[] = []): Promise<void> {
    const update = (d: DeliveryDoc): AnyBulkWriteOperation<DeliveryDoc> => ({
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
    });
    const updates = retrying.filter((o) => o.rowExists).map((o) => update(o.doc));
    const inserts = retrying.filter((o) => !o.rowExists).map((o) => o.doc);
    if (inserts.length > 0) {
      try {
        await this.queue.insertMany(inserts, { ordered: false });
      } catch (err) {
        // A row written by an earlier try of this write: bring it up to date instead.
        for (const i of duplicateIndexes(err)) updates.push(update(inserts[i]!));
      }
    }
    await updatesInChunks(this.queue, updates);
    if (finished.length > 0) {
      // Plain inserts: an upsert would look each id up first.
      try {
        await this.log.insertMany(
          finished.map(({ doc: { claimToken: _claimed, ...d } }) => ({ ...d, leaseOwner: "" })),
          { ordered: false },
        );
      } catch (err) {
        // Already logged by an earlier try of this same write: the rows are there, which is what counts.
        duplicateIndexes(err);
      }
      await this.dropIds(owner, finished.filter((o) => o.rowExists).map((o) => o.doc._id));
      await this.sendSecrets.drop(finished.filter((o) => o.doc.subscriptionId === "").map((o) => o.doc._id));
    }
    await this.dropBatches(owner, batchesDone);
  }

  async get(tenant: string, id: string): Promise<DeliveryDoc | null> {
    const doc =
      (await this.queue.findOne({ _id: id })) ??
      (await this.log.findOne({ _id: id })) ??
      (await this.batchesOf(tenant)).flatMap((b) => b.deliveries).find((d) => d._id === id) ??
      null;
    return doc && doc.tenant === tenant ? doc : null;
  }

  /**
   * The first `limit` of these batch entries, in id order, that have no row of their own: an entry
   * whose delivery already has one is a stale copy (its row may be filtered out by status).
   */
  private async firstWithoutRow(entries: DeliveryDoc[], limit: number): Promise<DeliveryDoc[]> {
    const sorted = entries.sort(byIdOrder);
    const out: DeliveryDoc[] = [];
    for (let i = 0; i < sorted.length && out.length < limit; i += limit) {
      const chunk = sorted.slice(i, i + limit);
      const rows = await this.existing(chunk.map((d) => d._id));
      out.push(...chunk.filter((d) => !rows.has(d._id)));
    }
    return out.slice(0, limit);
  }

  /** Pending and finished deliveries together, in id (creation) order. */
  async list(q: DeliveryQuery): Promise<DeliveryDoc[]> {
    const filter = logFilter<DeliveryDoc>(q);
    const [pending, done] = await Promise.all(
      [this.queue, this.log].map((c) => c.find(filter).sort({ _id: 1 }).limit(q.limit).toArray()),
    );
    // Deliveries still waiting for their first outcome live only in their batch.
    const inBatches =
      q.status && q.status !== "pending"
        ? []
        : await this.firstWithoutRow(
            (await this.batchesOf(q.tenant, q.messageId))
              .flatMap((b) => b.deliveries)
              .filter((d) => (!q.subscriptionId || d.subscriptionId === q.subscriptionId) && (!q.afterId || d._id > q.afterId)),
            q.limit,
          );
    // A delivery in two places appears once: its log row wins over its queue row over its batch entry.
    const byId = new Map<string, DeliveryDoc>();
    for (const d of [...inBatches, ...(pending ?? []), ...(done ?? [])]) byId.set(d._id, d);
    return [...byId.values()].sort(byIdOrder).slice(0, q.limit);
  }

  /**
   * Removes deliveries this process holds from the queue, in one command: the owner's equality selects
   * just its rows (FerretDB reads those through the leaseOwner index, then matches the id list in Go), so
   * the cost is what the process holds, not what the queue holds. A row whose hold moved on meanwhile
   * (its lease ran out and another process took it) is removed by id.
   */
  async dropIds(owner: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const res = await this.queue.deleteMany({ leaseOwner: owner, _id: { $in: ids } });
    if (res.deletedCount < ids.length) {
      await this.queue.bulkWrite(ids.map((_id) => ({ deleteOne: { filter: { _id } } })), { ordered: false });
    }
  }

  /** Drops a deleted subscription's unfinished deliveries. */
  async dropForSubscription(tenant: string, subscriptionId: string): Promise<void> {
    await this.queue.deleteMany({ tenant, subscriptionId });
  }
}

/** A message document's batch, as a batch. */
function messageBatch(m: MessageDoc): BatchDoc {
  return {
    _id: m._id,
    tenant: m.tenant,
    messageId: m._id,
    leaseOwner: m.leaseOwner ?? "",
    leaseUntil: m.leaseUntil ?? UNLEASED,
    createdAt: m.createdAt,
    deliveries: m.batch ?? [],
  };
}
