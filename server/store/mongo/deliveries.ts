// The delivery queue and log for MongoDB proper: one document per delivery in one collection
// (`deliveries`), whatever its state, read through compound indexes. Taking work is atomic per
// document: a guarded update (due, and no live hold) can win a delivery for one process only.
// (The layout in ../ferret/ is shaped for the embedded FerretDB instead.)
import type { AnyBulkWriteOperation, Collection, Filter } from "mongodb";
import type { Logger } from "../../telemetry/log.js";
import type { Delivery, DeliveryLog, DeliveryQuery, DeliveryQueue, HeldDelivery, Message, ReleasedHolds, TakeWants } from "../../ports.js";
import { skipFilter, wanted } from "../common/take-skip.js";
import { finishedSends, holdAfterRecord, holdFrom, newHolder } from "../common/holds.js";
import { UNHELD, type DeliveryDoc } from "../common/delivery-doc.js";
import { takeByToken } from "../common/take-by-token.js";
import type { MessageStore } from "../common/messages.js";
import { ensureLogWalkIndexes, logFilter } from "../common/log-query.js";
import type { SendSecretStore } from "../common/send-secrets.js";
import { OutcomeWriter, type Unwritten } from "../common/outcome-writer.js";
import { updatesInChunks } from "../common/update-chunks.js";

export class MongoDeliveries implements DeliveryQueue, DeliveryLog {
  readonly holder = newHolder();
  private readonly writer: OutcomeWriter<Unwritten>;

  constructor(
    private readonly col: Collection<DeliveryDoc>,
    private readonly messages: MessageStore,
    private readonly sendSecrets: SendSecretStore,
    log: Logger,
    private readonly opts: { holdMs: number; writeFailed?: (err: unknown) => void },
  ) {
    this.writer = new OutcomeWriter<Unwritten>({
      write: async (outcomes) => {
        // A state may carry the token of the take that won it: the token goes, the rest is set.
        const updates = outcomes.map(({ doc: { _id, takeToken: _t, ...set } }): AnyBulkWriteOperation<DeliveryDoc> => ({
          updateOne: { filter: { _id }, update: { $set: set, $unset: { takeToken: "" as const } } },
        }));
        await updatesInChunks(this.col, updates);
        await this.sendSecrets.drop(finishedSends(outcomes.map((o) => o.doc)));
      },
      failed: opts.writeFailed,
      log,
      // Written once the event loop turns (states recorded together share a command): MongoDB updates a
      // document in place cheaply, so nothing waits to gather as in the FerretDB layout.
      delayMs: 0,
    });
  }

  async ensureIndexes(): Promise<void> {
    await this.col.createIndex({ status: 1, nextAttemptAt: 1, holdUntil: 1 });
    await this.col.createIndex({ holder: 1 });
    await this.col.createIndex({ takeToken: 1 });
    await ensureLogWalkIndexes(this.col);
  }

  private held(d: Delivery): DeliveryDoc {
    return { ...d, holder: this.holder, holdUntil: holdFrom(Date.now(), this.opts.holdMs) };
  }

  // The queue ---------------------------------------------------------------------------------

  /** Deliveries first, then the message: the commit point (deliveries without their message are never taken). */
  async accept(message: Message, deliveries: Delivery[]): Promise<{ held: HeldDelivery[] } | { earlier: Message | null }> {
    const docs = deliveries.map((d) => this.held(d));
    if (docs.length > 0) await this.col.insertMany(docs, { ordered: false });
    if (await this.messages.insert(message)) return { held: docs.map((delivery) => ({ delivery })) };
    if (docs.length > 0) await this.col.deleteMany({ _id: { $in: docs.map((d) => d._id) } });
    return { earlier: await this.messages.byId(message._id) };
  }

  async add(deliveries: Delivery[]): Promise<HeldDelivery[]> {
    const docs = deliveries.map((d) => this.held(d));
    if (docs.length > 0) await this.col.insertMany(docs, { ordered: false });
    return docs.map((delivery) => ({ delivery }));
  }

  async takeDue(now: Date, limit: number, skip?: string[], wants?: TakeWants): Promise<HeldDelivery[]> {
    const due: Filter<DeliveryDoc> = { status: "pending", nextAttemptAt: { $lte: now }, holdUntil: { $lte: now }, ...skipFilter(skip) };
    const found = await this.col.find(due, { projection: { _id: 1, tenant: 1, subscriptionId: 1 } }).sort({ nextAttemptAt: 1 }).limit(limit).toArray();
    const candidates = wanted(found, wants);
    if (candidates.length === 0) return [];
    // The filter is checked again per document as it is updated: a delivery another process took
    // meanwhile no longer matches, so each is won by one process only.
    const taken = await takeByToken(this.col, this.holder, now, holdFrom(now.getTime(), this.opts.holdMs), (hold) =>
      this.col.updateMany({ ...due, _id: { $in: candidates.map((c) => c._id) } }, hold),
    );
    return taken.map((delivery) => ({ delivery }));
  }

  record(_item: HeldDelivery, next: Delivery, keep: boolean): Promise<void> {
    // `next` may carry what the document held when taken (its hold): set afresh here.
    const hold = holdAfterRecord(this.holder, next, keep, this.opts.holdMs);
    return this.writer.add({ doc: { ...next, holder: hold.holder, holdUntil: hold.holdUntil } });
  }

  async release(items: HeldDelivery[]): Promise<void> {
    if (items.length === 0) return;
    await this.col.updateMany({ _id: { $in: items.map((i) => i.delivery._id) }, holder: this.holder }, { $set: { holder: "" } });
  }

  async drop(items: HeldDelivery[]): Promise<void> {
    if (items.length > 0) await this.col.deleteMany({ _id: { $in: items.map((i) => i.delivery._id) } });
  }

  async renew(): Promise<void> {
    await this.col.updateMany({ holder: this.holder, status: "pending" }, { $set: { holdUntil: holdFrom(Date.now(), this.opts.holdMs) } });
  }

  async releaseAll(): Promise<void> {
    await this.col.updateMany({ holder: this.holder }, { $set: UNHELD });
  }

  /**
   * The holders come from the holder index (MongoDB answers a distinct of an indexed field from the index,
   * one step per distinct value: a handful of processes); each dead one's deliveries are then selected by it.
   */
  async releaseDeadHolders(dead: (holder: string) => boolean): Promise<ReleasedHolds> {
    const found = (await this.col.distinct("holder")) as string[];
    const holders = found.filter((h) => h !== "" && h !== this.holder && dead(h)).sort();
    let rows = 0;
    for (const holder of holders) rows += (await this.col.updateMany({ holder }, { $set: UNHELD })).modifiedCount;
    return { holders, lots: 0, rows };
  }

  async dropForSubscription(tenant: string, subscriptionId: string): Promise<void> {
    await this.col.deleteMany({ tenant, subscriptionId, status: "pending" });
  }

  flush(deadline: number): Promise<boolean> {
    return this.writer.drain(deadline);
  }

  get unwritten(): number {
    return this.writer.size;
  }

  // The log -----------------------------------------------------------------------------------

  async get(tenant: string, id: string): Promise<Delivery | null> {
    const doc = await this.col.findOne({ _id: id });
    return doc && doc.tenant === tenant ? doc : null;
  }

  async list(q: DeliveryQuery): Promise<Delivery[]> {
    return this.col.find(logFilter<DeliveryDoc>(q)).sort({ _id: q.newestFirst ? -1 : 1 }).limit(q.limit).toArray();
  }

  async countPending(cap: number): Promise<number> {
    // A count on the (status, nextAttemptAt, holdUntil) index's leading key, stopped at the cap: MongoDB
    // counts index entries, never documents.
    return this.col.countDocuments({ status: "pending" }, { limit: cap });
  }
}
