// The delivery queue and log for MongoDB proper: one document per delivery in one collection
// (`deliveries`), whatever its state, read through compound indexes. Taking work is atomic per
// document: a guarded update (due, and no live hold) can win a delivery for one process only.
// (The layout in deliveries.ts and queue.ts is shaped for the embedded FerretDB instead.)
import type { Collection, Filter } from "mongodb";
import { errorFields, type Logger } from "../../telemetry/log.js";
import type { Delivery, DeliveryLog, DeliveryQuery, DeliveryQueue, HeldDelivery, Message } from "../../ports.js";
import { skipFilter } from "../common/take-skip.js";
import { finishedSends, holdAfterRecord, holdFrom, newHolder } from "../common/holds.js";
import { NO_HOLD, type DeliveryDoc } from "../common/delivery-doc.js";
import { takeByToken } from "../common/take-by-token.js";
import type { MessageStore } from "../common/messages.js";
import { logFilter } from "../common/log-query.js";
import type { SendSecretStore } from "../common/send-secrets.js";
import { ensureWalkIndex } from "../common/walk-index.js";

export class MongoDeliveries implements DeliveryQueue, DeliveryLog {
  readonly holder = newHolder();
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly col: Collection<DeliveryDoc>,
    private readonly messages: MessageStore,
    private readonly sendSecrets: SendSecretStore,
    private readonly log: Logger,
    private readonly opts: { holdMs: number; writeFailed?: (err: unknown) => void },
  ) {}

  async ensureIndexes(): Promise<void> {
    await this.col.createIndex({ status: 1, nextAttemptAt: 1, holdUntil: 1 });
    await this.col.createIndex({ holder: 1 });
    await this.col.createIndex({ takeToken: 1 });
    await ensureWalkIndex(this.col, ["tenant"]);
    await ensureWalkIndex(this.col, ["tenant", "status"]);
    await ensureWalkIndex(this.col, ["tenant", "messageId"]);
    await ensureWalkIndex(this.col, ["tenant", "subscriptionId"]);
    await ensureWalkIndex(this.col, ["tenant", "subscriptionId", "status"]);
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

  async takeDue(now: Date, limit: number, skip?: string[]): Promise<HeldDelivery[]> {
    const due: Filter<DeliveryDoc> = { status: "pending", nextAttemptAt: { $lte: now }, holdUntil: { $lte: now }, ...skipFilter(skip) };
    const candidates = await this.col.find(due, { projection: { _id: 1 } }).sort({ nextAttemptAt: 1 }).limit(limit).toArray();
    if (candidates.length === 0) return [];
    // The filter is checked again per document as it is updated: a delivery another process took
    // meanwhile no longer matches, so each is won by one process only.
    const taken = await takeByToken(this.col, this.holder, now, holdFrom(now.getTime(), this.opts.holdMs), (hold) =>
      this.col.updateMany({ ...due, _id: { $in: candidates.map((c) => c._id) } }, hold),
    );
    return taken.map((delivery) => ({ delivery }));
  }

  record(item: HeldDelivery, next: Delivery, keep: boolean): Promise<void> {
    // `next` may carry what the document held when taken (its token, its hold): set afresh here.
    const { _id, takeToken: _token, holder: _holder, holdUntil: _until, ...state } = next as DeliveryDoc;
    const set = { ...state, ...holdAfterRecord(this.holder, next, keep, this.opts.holdMs) };
    const write = this.retrying(async () => {
      await this.col.updateOne({ _id }, { $set: set, $unset: { takeToken: "" } });
      const sends = finishedSends([next]);
      if (sends.length > 0) await this.sendSecrets.drop(sends);
    });
    this.writing.add(write);
    void write.finally(() => this.writing.delete(write));
    return write;
  }

  /** Tries a write again, backing off, for as long as the process lives: no recorded state is dropped. */
  private async retrying(write: () => Promise<void>): Promise<void> {
    for (let failures = 0; ; failures++) {
      try {
        return await write();
      } catch (err) {
        this.opts.writeFailed?.(err);
        this.log.warn("writing a delivery state failed; will retry", errorFields(err));
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** failures, 5000)));
      }
    }
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
    await this.col.updateMany({ holder: this.holder }, { $set: { holder: "", holdUntil: NO_HOLD } });
  }

  async dropForSubscription(tenant: string, subscriptionId: string): Promise<void> {
    await this.col.deleteMany({ tenant, subscriptionId, status: "pending" });
  }

  async flush(deadline: number): Promise<boolean> {
    while (this.writing.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.all(this.writing), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
    }
    return this.writing.size === 0;
  }

  get unwritten(): number {
    return this.writing.size;
  }

  // The log -----------------------------------------------------------------------------------

  async get(tenant: string, id: string): Promise<Delivery | null> {
    const doc = await this.col.findOne({ _id: id });
    return doc && doc.tenant === tenant ? doc : null;
  }

  async list(q: DeliveryQuery): Promise<Delivery[]> {
    return this.col.find(logFilter<DeliveryDoc>(q)).sort({ _id: 1 }).limit(q.limit).toArray();
  }
}
