// Deliveries live in four collections, kept apart because FerretDB scans whole collections and
// rewrites a whole document to change it (about half a millisecond a document: too much per Trigger).
// A Trigger's deliveries are written once, with its message: the message document holds the first
// BATCH_DELIVERIES of them, rows of delivery_batches hold a larger fan-out's others, and neither is
// written again. Each names the lot it was accepted into: a row of delivery_lots that the accepting
// process holds for all the messages it accepted in about a second, and removes once each of their
// deliveries has its first outcome stored. A delivery's later states are rows: the queue holds those
// waiting for a retry (where due work is taken from), the log those finished (what the log RPCs read).
// A lot whose holder died is taken over whole: its messages are walked, and the deliveries that have
// no row yet are taken on.
import type { AnyBulkWriteOperation, Collection, Filter } from "mongodb";
import type { DeliveryQuery, ReleasedHolds, TakeWants } from "../../ports.js";
import { skipFilter, wanted } from "../common/take-skip.js";
import { finishedSends } from "../common/holds.js";
import { takeByToken } from "../common/take-by-token.js";
import { foundById } from "../common/found-by-id.js";
import { deleteById } from "../common/delete-by-id.js";
import { duplicateIndexes, upserting } from "../common/duplicate-key.js";
import { GroupCommit } from "../common/group-commit.js";
import { updatesInChunks } from "../common/update-chunks.js";
import { byIdOrder, ensureLogWalkIndexes, inQuery, logFilter } from "../common/log-query.js";
import { ensureWalkIndex } from "../common/walk-index.js";
import { fromLogRow, toLogRow, unpackDeliveries, type LogRow } from "./packed.js";
import type { MessageDoc } from "../common/messages.js";
import { UNHELD, type DeliveryDoc, type HoldFields } from "../common/delivery-doc.js";
import type { SendSecretStore } from "../common/send-secrets.js";

/** A batch stays well under MongoDB's 16 MB document limit (a delivery is about 500 bytes). */
export const BATCH_DELIVERIES = 500;
/** Messages a list reads of a live lot at a time (a lot takes at most a second of Triggers). */
const LOT_READ_PAGE = 500;

/**
 * Whom a lot's message reaches, as the messages' (lot, reach) walk index keys it, so that a list by owner
 * reads of a live lot only the messages that can hold that owner's deliveries: "=" then the one owner all
 * its deliveries are for ("=" alone for the tenant's own), or REACHES_MIXED when they are for several
 * (an announcement to every owner). Taken from the deliveries, not from the message's owner, so that
 * whatever chose the audience, an owner's delivery is never keyed under another's. The "=" keeps an
 * owner's key from ever being REACHES_MIXED.
 */
export function reachOf(deliveries: ReadonlyArray<{ owner?: string | undefined }>): string {
  const owners = new Set(deliveries.map((d) => d.owner ?? ""));
  return owners.size === 1 ? ownerReach([...owners][0]!) : REACHES_MIXED;
}
const ownerReach = (owner: string) => `=${owner}`;
const REACHES_MIXED = "*";

/** A larger fan-out's further deliveries, beyond the message document's first batch; written once. */
export interface BatchDoc {
  _id: string;
  tenant: string;
  messageId: string;
  lot: string;
  createdAt: Date;
  /** Packed (packed.ts); an array in rows written before packing. */
  deliveries: string | DeliveryDoc[];
}

/**
 * The messages one process accepted in about a second: held by it until each of their deliveries has
 * its first outcome stored, then removed. Its messages and batch rows name it.
 */
export interface LotDoc extends HoldFields {
  _id: string;
  createdAt: Date;
  /** Its messages carry `reach` (reachOf). Lots opened by earlier versions lack it: a list by owner reads them whole. */
  reachKeyed?: boolean;
}

/** A lot's deliveries that may still lack a row: a message's first batch or a batch row. */
export interface LotBatch {
  /** The message id for a message's first batch, else the batch row's id. */
  _id: string;
  messageId: string;
  deliveries: DeliveryDoc[];
}

/** An outcome to store; rowExists says whether the delivery has a queue row to update or delete. */
export interface Outcome {
  doc: DeliveryDoc;
  rowExists: boolean;
}

/** The prefix of a holder's registration in hookwire_meta (registerHolder). */
const HOLDER_ENTRY = "holder:";
const holderEntry = (holder: string) => `${HOLDER_ENTRY}${holder}`;

/** Marks done the one-time migrations (secrets out of rows; held batches into a lot); registered holders. */
export interface MetaDoc {
  _id: string;
  at: Date;
}

/**
 * Takes up to `limit` rows matching `due`: with no more due than that, all of them in one guarded
 * update; with a larger backlog, the first `limit` found, each by its _id (an index lookup) guarded by
 * `due`, in commands of UPDATES_PER_COMMAND (update-chunks.ts). So a take costs what it takes, not what the backlog holds:
 * a filter on anything but _id is matched in Go over every row FerretDB reads (a take of one shard of a
 * 1,000,000-row queue read every row: minutes), and an $in list is matched element by element. What
 * was won is read back by the take's token (take-by-token.ts).
 */
async function take<T extends HoldFields & { _id: string }>(
  col: Collection<T>,
  due: Filter<T>,
  holder: string,
  now: Date,
  holdUntil: Date,
  limit: number,
  wants?: TakeWants,
): Promise<T[]> {
  // No sort: FerretDB would have to read the whole collection to sort it, and stops early without one.
  const sample = await col.find(due, { projection: { _id: 1, tenant: 1, subscriptionId: 1 } }).limit(limit + 1).toArray();
  if (sample.length === 0) return [];
  // Queue rows carry their tenant and subscription (lots, taken without `wants`, do not).
  const picked = wanted(sample.slice(0, limit) as unknown as Array<{ _id: unknown; tenant: string; subscriptionId: string }>, wants);
  if (picked.length === 0) return [];
  // Every due row at once when the sample held them all and all are wanted; else the picked rows by id.
  return takeByToken(col, holder, now, holdUntil, (hold) =>
    sample.length <= limit && picked.length === sample.length
      ? col.updateMany(due, hold)
      : updatesInChunks(col, picked.map((s) => ({ updateOne: { filter: { ...due, _id: s._id } as Filter<T>, update: hold } }))),
  );
}

export class DeliveryStore {
  private readonly enqueues: GroupCommit<DeliveryDoc[], undefined>;
  private readonly batchInserts: GroupCommit<BatchDoc, undefined>;

  constructor(
    private readonly queue: Collection<DeliveryDoc>,
    private readonly log: Collection<LogRow | DeliveryDoc>,
    private readonly batches: Collection<BatchDoc>,
    private readonly messages: Collection<MessageDoc>,
    private readonly lots: Collection<LotDoc>,
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
    await this.queue.createIndex({ nextAttemptAt: 1, holdUntil: 1 });
    await this.queue.createIndex({ takeToken: 1 });
    await this.queue.createIndex({ holder: 1 });
    // A list page reads only its own rows, in the queue as in the log.
    await ensureLogWalkIndexes(this.queue);
    await ensureLogWalkIndexes(this.log);
    await this.batches.createIndex({ lot: 1 });
    await this.batches.createIndex({ tenant: 1, messageId: 1 });
    // A takeover walks a lot's messages page by page.
    await ensureWalkIndex(this.messages, ["lot"]);
    // A list by owner walks only the messages of a live lot that can reach the owner (reachOf): reading all
    // of them cost 15-50 ms for a lot of a few hundred messages, most of a ListDeliveries by owner. The
    // price is one more index entry per message insert.
    await ensureWalkIndex(this.messages, ["lot", "reach"]);
    await this.lots.createIndex({ holder: 1 });
    await this.lots.createIndex({ takeToken: 1 });
  }

  /** A lot's row, stored before any message names it. */
  async openLot(lot: LotDoc): Promise<void> {
    await this.lots.insertOne(lot);
  }

  /** A lot whose deliveries all have their first outcome stored: its batch rows and then its row go. */
  async endLot(id: string, hasBatchRows: boolean): Promise<void> {
    if (hasBatchRows) await this.batches.deleteMany({ lot: id });
    await this.lots.deleteOne({ _id: id });
  }

  /** Hands a lot back unheld, for any process to take over at once (its deliveries without a row get sent). */
  async handBackLot(holder: string, id: string): Promise<void> {
    await this.lots.updateOne({ _id: id, holder }, { $set: UNHELD });
  }

  /** Takes a lot whose holder stopped renewing it (or handed it back). */
  async takeLot(holder: string, now: Date, holdUntil: Date): Promise<LotDoc | undefined> {
    return (await take(this.lots, { holdUntil: { $lte: now } }, holder, now, holdUntil, 1))[0];
  }

  /** The first batches of a lot's messages after `afterMessageId`, in id order, through the walk index. */
  async lotMessages(lot: string, afterMessageId: string | undefined, limit: number): Promise<LotBatch[]> {
    return (await this.lotMessageDocs(lot, afterMessageId, limit)).map(messageBatch);
  }

  /**
   * A page of a lot's messages (without their bodies) after `afterMessageId`, in id order, through a walk
   * index: all of them, or with `reach` only those keyed so (reachOf).
   */
  private lotMessageDocs(lot: string, afterMessageId: string | undefined, limit: number, reach?: string): Promise<MessageDoc[]> {
    const filter: Filter<MessageDoc> = reach === undefined ? { lot } : { lot, reach };
    if (afterMessageId) filter._id = { $gt: afterMessageId };
    return this.messages.find(filter, { projection: { body: 0 } }).sort({ _id: 1 }).limit(limit).toArray();
  }

  /** Every one of a lot's messages of `tenant` (with `reach`, only those keyed so), page by page. */
  private async lotMessagesOf(tenant: string, lot: string, reach?: string): Promise<MessageDoc[]> {
    const out: MessageDoc[] = [];
    for (let after: string | undefined; ; ) {
      const page = await this.lotMessageDocs(lot, after, LOT_READ_PAGE, reach);
      for (const m of page) if (m.tenant === tenant) out.push(m);
      if (page.length < LOT_READ_PAGE) return out;
      after = page.at(-1)!._id;
    }
  }

  /** A lot's batch rows (only larger fan-outs have any). */
  async lotRows(lot: string): Promise<LotBatch[]> {
    return (await this.batches.find({ lot }).toArray()).map(rowBatch);
  }

  /**
   * Removes batches whose deliveries can never be sent, or must not be: batch rows go, a message
   * document loses its batch. Rare (orphans, a repeated idempotency key), so by _id statements.
   */
  async dropBatches(ids: string[], rows: boolean): Promise<void> {
    if (ids.length === 0) return;
    if (rows) await deleteById(this.batches, ids);
    else await updatesInChunks(this.messages, ids.map((_id) => ({ updateOne: { filter: { _id }, update: { $unset: { batch: "" } } } })));
  }

  /**
   * The live lots' batches of `tenant`, for reads: deliveries accepted but not attempted yet live only
   * there. With `messageId`, that message's only; with `owner`, at least every batch holding one of the
   * owner's deliveries (the caller still filters the entries).
   */
  private async batchesOf(tenant: string, scope: { messageId?: string | undefined; owner?: string | undefined } = {}): Promise<LotBatch[]> {
    const { messageId, owner } = scope;
    const lots = await this.lots.find({}, { projection: { _id: 1, reachKeyed: 1 } }).toArray();
    const live = new Set(lots.map((l) => l._id));
    if (live.size === 0) return [];
    if (messageId) {
      const m = await this.messages.findOne({ _id: messageId });
      if (!m || m.tenant !== tenant || !m.lot || !live.has(m.lot)) return [];
      const rows = await this.batches.find({ tenant, messageId }).toArray();
      return [messageBatch(m), ...rows.filter((b) => live.has(b.lot)).map(rowBatch)];
    }
    const out: LotBatch[] = [];
    // Through a lot's walk indexes, the tenant picked out in lotMessagesOf: a filter on lot and tenant is
    // one FerretDB answers by reading every stored message, which made a list cost what the whole message
    // collection holds (50 ms at 36,000 messages) instead of what the live lots hold.
    for (const lot of lots) {
      if (owner && lot.reachKeyed) {
        // Only the messages that can reach the owner: its own, and those for several owners.
        const found = [...(await this.lotMessagesOf(tenant, lot._id, ownerReach(owner))), ...(await this.lotMessagesOf(tenant, lot._id, REACHES_MIXED))];
        for (const m of found) {
          const first = messageBatch(m);
          out.push(first);
          // Only a full first batch can go on in batch rows (accept writes rows beyond BATCH_DELIVERIES).
          if (first.deliveries.length >= BATCH_DELIVERIES) out.push(...(await this.batches.find({ tenant, messageId: m._id, lot: lot._id }).toArray()).map(rowBatch));
        }
        continue;
      }
      out.push(...(await this.lotMessagesOf(tenant, lot._id)).map(messageBatch));
      out.push(...(await this.batches.find({ lot: lot._id, tenant }).toArray()).map(rowBatch));
    }
    return out;
  }

  /** One row for a fan-out's further deliveries, its insert shared with concurrent callers. */
  async enqueueBatch(batch: BatchDoc): Promise<void> {
    await this.batchInserts.add(batch);
  }

  /** Which of these deliveries already have a queue or log row. */
  existing(ids: string[]): Promise<Set<string>> {
    return foundById([this.queue, this.log], ids, 100);
  }

  /** One insert for any number of deliveries, shared with concurrent callers. */
  async enqueue(docs: DeliveryDoc[]): Promise<void> {
    if (docs.length > 0) await this.enqueues.add(docs);
  }

  /** Takes due deliveries whose hold has run out (see take). */
  async takeDue(holder: string, now: Date, holdUntil: Date, limit: number, skip?: string[], wants?: TakeWants): Promise<DeliveryDoc[]> {
    return take(this.queue, { nextAttemptAt: { $lte: now }, holdUntil: { $lte: now }, ...skipFilter(skip) }, holder, now, holdUntil, limit, wants);
  }

  /** Extends this process's holds: every queue row and lot it holds (each selected by its holder). */
  async renew(holder: string, holdUntil: Date): Promise<void> {
    await this.queue.updateMany({ holder }, { $set: { holdUntil } });
    await this.lots.updateMany({ holder }, { $set: { holdUntil } });
  }

  /**
   * Stops `holder` holding these queue rows (they are not renewed): any process may take them once
   * their hold runs out. One command: the holder's equality selects only its rows (FerretDB reads those
   * through an index and matches the ids in Go).
   */
  async release(holder: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.queue.updateMany({ holder, _id: { $in: ids } }, { $set: { holder: "" } });
  }

  /**
   * Names `holder` in hookwire_meta among the processes that may hold queue rows, before it takes or stores
   * any, so releaseDeadHolders finds it after a kill even when it holds no lot: the retries it took or kept
   * are queue rows only, and the queue is not searched for holders (it may be large).
   */
  async registerHolder(holder: string): Promise<void> {
    await upserting(() => this.meta.updateOne({ _id: holderEntry(holder) }, { $set: { at: new Date() } }, { upsert: true }));
  }

  /** Hands back every delivery and lot this process holds, for any process to take at once. */
  async releaseAll(holder: string): Promise<void> {
    await this.queue.updateMany({ holder }, { $set: UNHELD });
    await this.lots.updateMany({ holder }, { $set: UNHELD });
    await this.meta.deleteOne({ _id: holderEntry(holder) });
  }

  /**
   * Hands back unheld, for any process to take at once, the lots and queue rows of the holders that `dead`
   * judges dead (never `own`). The candidates are the holders of held lots and the registered ones (a
   * handful: one per process that ran and did not stop gracefully, until a process of its host finds it
   * dead), never the queue's, which may be large; each dead holder's rows are then selected by its holder
   * (an index), and its registration goes. A lot or row taken over meanwhile by another process no longer
   * names the dead holder and is left to its new one.
   */
  async releaseDeadHolders(own: string, dead: (holder: string) => boolean): Promise<ReleasedHolds> {
    const held = await this.lots.find({ holder: { $ne: "" } }, { projection: { holder: 1 } }).toArray();
    const registered = await this.meta.find({ _id: { $regex: `^${HOLDER_ENTRY}` } }, { projection: { _id: 1 } }).toArray();
    const named = [...held.map((l) => l.holder), ...registered.map((r) => r._id.slice(HOLDER_ENTRY.length))];
    const holders = [...new Set(named)].filter((h) => h !== "" && h !== own && dead(h)).sort();
    let lots = 0;
    let rows = 0;
    for (const holder of holders) {
      lots += (await this.lots.updateMany({ holder }, { $set: UNHELD })).modifiedCount;
      rows += (await this.queue.updateMany({ holder }, { $set: UNHELD })).modifiedCount;
      await this.meta.deleteOne({ _id: holderEntry(holder) });
    }
    return { holders, lots, rows };
  }

  /**
   * Writes a batch of outcomes. A retry updates the delivery's queue row, or inserts it when the
   * delivery so far lived only in its batch. A finished delivery is written to the log first and
   * removed from the queue after, so a crash between the two leaves a duplicate delivery at worst,
   * never a lost one.
   */
  async writeOutcomes(holder: string, retrying: Outcome[], finished: Outcome[]): Promise<void> {
    const update = (d: DeliveryDoc): AnyBulkWriteOperation<DeliveryDoc> => ({
      updateOne: {
        filter: { _id: d._id },
        update: {
          $set: {
            attempts: d.attempts,
            nextAttemptAt: d.nextAttemptAt,
            holder: d.holder,
            holdUntil: d.holdUntil,
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
        await this.log.insertMany(finished.map((o) => toLogRow(o.doc)), { ordered: false });
      } catch (err) {
        // Already logged by an earlier try of this same write: the rows are there, which is what counts.
        duplicateIndexes(err);
      }
      await this.dropIds(holder, finished.filter((o) => o.rowExists).map((o) => o.doc._id));
      await this.sendSecrets.drop(finishedSends(finished.map((o) => o.doc)));
    }
  }

  /**
   * The log first: a finished delivery's log row is written before its queue row goes (writeOutcomes), so
   * while both exist the log's is the newer state, as list answers it.
   */
  async get(tenant: string, id: string): Promise<DeliveryDoc | null> {
    const doc =
      (await this.log.findOne({ _id: id }).then((row) => row && fromLogRow(row))) ??
      (await this.queue.findOne({ _id: id })) ??
      (await this.batchesOf(tenant)).flatMap((b) => b.deliveries).find((d) => d._id === id) ??
      null;
    return doc && doc.tenant === tenant ? doc : null;
  }

  /**
   * The first `limit` of these batch entries, in id order (or its reverse), that have no row of their own: an entry
   * whose delivery already has one is a stale copy (its row may be filtered out by status).
   */
  private async firstWithoutRow(entries: DeliveryDoc[], limit: number, newestFirst = false): Promise<DeliveryDoc[]> {
    const sorted = entries.sort(byIdOrder);
    if (newestFirst) sorted.reverse();
    const out: DeliveryDoc[] = [];
    for (let i = 0; i < sorted.length && out.length < limit; i += limit) {
      const chunk = sorted.slice(i, i + limit);
      const rows = await this.existing(chunk.map((d) => d._id));
      out.push(...chunk.filter((d) => !rows.has(d._id)));
    }
    return out.slice(0, limit);
  }

  /**
   * Pending and finished deliveries together, in id (creation) order. Read in the order a delivery moves
   * (its batch entry, then its queue row, then its log row), each read after the one before: a delivery
   * that moves on during the call is then found where it went. Its log row is written before its queue
   * row is removed, and a row before its batch entry stops counting, so whatever stage it reaches after a
   * read, a later read sees it; read at once, the reads could each miss it in passing.
   */
  async list(q: DeliveryQuery): Promise<DeliveryDoc[]> {
    const filter = logFilter<DeliveryDoc>(q);
    // Newest first is the same walk read down: FerretDB's walk (walk-index.ts) takes {_id: -1} as well.
    const order = q.newestFirst ? -1 : 1;
    // Deliveries still waiting for their first outcome live only in their batch.
    const inBatches =
      q.status && q.status !== "pending"
        ? []
        : await this.firstWithoutRow(
            (await this.batchesOf(q.tenant, q))
              .flatMap((b) => b.deliveries)
              .filter((d) => inQuery(q, d)),
            q.limit,
            q.newestFirst,
          );
    const pending = await this.queue.find(filter).sort({ _id: order }).limit(q.limit).toArray();
    const done = (await this.log.find(filter as Filter<LogRow | DeliveryDoc>).sort({ _id: order }).limit(q.limit).toArray()).map(fromLogRow);
    // A delivery in two places appears once: its log row wins over its queue row over its batch entry.
    const byId = new Map<string, DeliveryDoc>();
    for (const d of [...inBatches, ...pending, ...done]) byId.set(d._id, d);
    const merged = [...byId.values()].sort(byIdOrder);
    if (q.newestFirst) merged.reverse();
    return merged.slice(0, q.limit);
  }

  /**
   * Pending deliveries of every tenant, at most `cap` counted: the queue's rows (every one is pending; read
   * by _id alone, with no sort, so the read stops at the cap), then the entries of the live lots' batches
   * that have no row yet (a lot lives about a second after its Triggers, so they are few). Never the log.
   */
  async countPending(cap: number): Promise<number> {
    let n = (await this.queue.find({}, { projection: { _id: 1 } }).limit(cap).toArray()).length;
    if (n >= cap) return cap;
    const lots = await this.lots.find({}, { projection: { _id: 1 } }).toArray();
    const add = async (batches: LotBatch[]) => {
      for (const b of batches) {
        n += b.deliveries.length - (await this.existing(b.deliveries.map((d) => d._id))).size;
        if (n >= cap) return true;
      }
      return false;
    };
    for (const lot of lots) {
      for (let after: string | undefined; ; ) {
        const page = await this.lotMessages(lot._id, after, LOT_READ_PAGE);
        if (await add(page)) return cap;
        if (page.length < LOT_READ_PAGE) break;
        after = page.at(-1)!._id;
      }
      if (await add(await this.lotRows(lot._id))) return cap;
    }
    return n;
  }

  /**
   * Removes deliveries this process holds from the queue, in one command selected by the holder (see
   * release). A row whose hold moved on meanwhile (it ran out and another process took the row) is
   * removed by id.
   */
  async dropIds(holder: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const res = await this.queue.deleteMany({ holder, _id: { $in: ids } });
    if (res.deletedCount < ids.length) {
      await deleteById(this.queue, ids);
    }
  }

  /** Drops a deleted subscription's unfinished deliveries. */
  async dropForSubscription(tenant: string, subscriptionId: string): Promise<void> {
    await this.queue.deleteMany({ tenant, subscriptionId });
  }
}

/** A message document's first batch, as a lot's batch. */
function messageBatch(m: MessageDoc): LotBatch {
  return { _id: m._id, messageId: m._id, deliveries: unpackDeliveries(m.batch) };
}

/** A batch row, as a lot's batch. */
function rowBatch(b: BatchDoc): LotBatch {
  return { _id: b._id, messageId: b.messageId, deliveries: unpackDeliveries(b.deliveries) };
}
