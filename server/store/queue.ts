// The delivery queue port on the collections of deliveries.ts. A Trigger's deliveries are accepted
// into batch rows (one write however many subscribers) leased to the accepting process; a delivery
// gets a queue row only when it needs a retry and a log row when it finishes, and the batch row goes
// once each of its deliveries has one or the other. All of that bookkeeping lives here.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { newId } from "../ids.js";
import type { Logger } from "../log.js";
import type { Delivery, DeliveryQueue, HeldDelivery, Message } from "../ports.js";
import { BATCH_DELIVERIES, UNLEASED, type BatchDoc, type DeliveryDoc, type DeliveryStore } from "./deliveries.js";
import type { MessageDoc, MessageStore } from "./messages.js";
import { OutcomeWriter, type WrittenOutcome } from "./outcome-writer.js";


/** What the queue keeps beside a held delivery: where its latest state is stored. */
interface Entry extends HeldDelivery {
  delivery: DeliveryDoc;
  /** The delivery has a queue row (else it lives in its batch row until its first outcome). */
  rowExists: boolean;
  batchId: string | undefined;
}

export interface QueueOptions {
  /** How long a hold lasts unless renewed; an expired one lets any process take the work. */
  leaseMs: number;
}

export class StoredDeliveryQueue implements DeliveryQueue {
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  private readonly writer: OutcomeWriter;
  /** Per batch row this process works through: how many of its deliveries still wait for a stored first outcome. */
  private readonly batchWaiting = new Map<string, number>();
  private lastBatchClaim = 0;

  constructor(
    private readonly store: DeliveryStore,
    private readonly messages: MessageStore,
    log: Logger,
    private readonly opts: QueueOptions,
  ) {
    this.writer = new OutcomeWriter(store, this.holder, log, (written) => this.written(written));
  }

  private leaseUntil(now = Date.now()): Date {
    return new Date(now + this.opts.leaseMs);
  }

  private stored(d: Delivery, now: Date): DeliveryDoc {
    return { ...d, leaseOwner: this.holder, leaseUntil: this.leaseUntil(now.getTime()) };
  }

  async accept(message: Message, deliveries: Delivery[]): Promise<{ held: HeldDelivery[] } | { earlier: Message | null }> {
    const now = new Date();
    const docs = deliveries.map((d) => this.stored(d, now));
    const leaseUntil = this.leaseUntil(now.getTime());
    // The first batch goes in the message document: for up to BATCH_DELIVERIES subscribers a Trigger is one write.
    const first = docs.slice(0, BATCH_DELIVERIES);
    const rows: BatchDoc[] = [];
    for (let i = BATCH_DELIVERIES; i < docs.length; i += BATCH_DELIVERIES) {
      rows.push({
        _id: newId("bat"),
        tenant: message.tenant,
        messageId: message._id,
        leaseOwner: this.holder,
        leaseUntil,
        createdAt: now,
        deliveries: docs.slice(i, i + BATCH_DELIVERIES),
      });
    }
    await Promise.all(rows.map((b) => this.store.enqueueBatch(b)));
    const doc: MessageDoc =
      first.length > 0 ? { ...message, batchHeld: "held", batch: first, leaseOwner: this.holder, leaseUntil } : message;
    // The message insert is the commit point: batch rows whose message is missing are dropped as never accepted.
    if (!(await this.messages.insert(doc))) {
      await this.store.dropBatches(this.holder, rows.map((b) => b._id));
      return { earlier: await this.messages.byId(message._id) };
    }
    const held: Entry[] = [];
    const batches = [{ _id: message._id, deliveries: first }, ...rows].filter((b) => b.deliveries.length > 0);
    for (const b of batches) {
      this.batchWaiting.set(b._id, b.deliveries.length);
      for (const d of b.deliveries) held.push({ delivery: d, rowExists: false, batchId: b._id });
    }
    return { held };
  }

  async add(deliveries: Delivery[]): Promise<HeldDelivery[]> {
    const now = new Date();
    const docs = deliveries.map((d) => this.stored(d, now));
    await this.store.enqueue(docs);
    return docs.map((d): Entry => ({ delivery: d, rowExists: true, batchId: undefined }));
  }

  async takeDue(now: Date, limit: number): Promise<HeldDelivery[]> {
    const rows = await this.store.claimDue(this.holder, now, this.leaseUntil(now.getTime()), limit);
    const taken: Entry[] = rows.map((d) => ({ delivery: d, rowExists: true, batchId: undefined }));
    // Batches are taken over only once their lease expired, so they are looked at less often than
    // retries: each look reads every batch row in flight.
    if (now.getTime() - this.lastBatchClaim >= this.opts.leaseMs / 4) {
      this.lastBatchClaim = now.getTime();
      const room = Math.max(1, Math.floor((limit - rows.length) / 10));
      for (const batch of await this.store.claimBatches(this.holder, now, this.leaseUntil(now.getTime()), room)) {
        if (this.batchWaiting.has(batch._id)) continue; // ours already: its lease lapsed while we worked through it
        const done = await this.store.existing(batch.deliveries.map((d) => d._id));
        const rest = batch.deliveries.filter((d) => !done.has(d._id));
        if (rest.length === 0) {
          this.writer.batchDone(batch._id);
          continue;
        }
        this.batchWaiting.set(batch._id, rest.length);
        for (const d of rest) taken.push({ delivery: { ...d, leaseOwner: this.holder, leaseUntil: batch.leaseUntil }, rowExists: false, batchId: batch._id });
      }
    }
    return taken;
  }

  record(item: HeldDelivery, next: Delivery, keep: boolean): Promise<void> {
    const entry = item as Entry;
    const doc: DeliveryDoc = {
      ...next,
      leaseOwner: keep ? this.holder : "",
      leaseUntil: keep ? new Date(next.nextAttemptAt.getTime() + this.opts.leaseMs) : UNLEASED,
    };
    const stored = this.writer.add(doc, entry.rowExists, entry.batchId);
    // From its first outcome on, the delivery has a row of its own (queue or log); its batch can go.
    entry.delivery = doc;
    entry.rowExists = true;
    entry.batchId = undefined;
    return stored;
  }

  /** The batches these entries still wait in, no longer worked through (nor renewed) by this process. */
  private stopWaiting(entries: Entry[]): string[] {
    const batchIds = [...new Set(entries.flatMap((e) => (e.batchId ? [e.batchId] : [])))];
    for (const id of batchIds) this.batchWaiting.delete(id);
    return batchIds;
  }

  /** No longer renewed: their hold runs out as it stands, and then any process may take them. */
  async release(items: HeldDelivery[]): Promise<void> {
    const entries = items as Entry[];
    const batchIds = this.stopWaiting(entries);
    await this.store.disown(this.holder, entries.filter((e) => e.rowExists).map((e) => e.delivery._id));
    await this.store.disownBatches(this.holder, batchIds);
  }

  /** Orphans come whole: a batch holds one message's deliveries, so all of a batch goes with it. */
  async drop(items: HeldDelivery[]): Promise<void> {
    const entries = items as Entry[];
    const batchIds = this.stopWaiting(entries);
    await this.store.dropIds(this.holder, entries.filter((e) => e.rowExists).map((e) => e.delivery._id));
    await this.store.dropBatches(this.holder, batchIds);
  }

  /**
   * Every queue row this process holds, and the batch rows it is working through by id (a batch left
   * behind by a Trigger that failed half-way must expire, so it is not renewed).
   */
  renew(): Promise<void> {
    return this.store.renew(this.holder, [...this.batchWaiting.keys()], this.leaseUntil());
  }

  releaseAll(): Promise<void> {
    return this.store.releaseAll(this.holder);
  }

  dropForSubscription(tenant: string, subscriptionId: string): Promise<void> {
    return this.store.dropForSubscription(tenant, subscriptionId);
  }

  flush(deadline: number): Promise<boolean> {
    return this.writer.drain(deadline);
  }

  get unwritten(): number {
    return this.writer.size;
  }

  private written(outcomes: WrittenOutcome[]): void {
    for (const o of outcomes) {
      if (!o.batchId) continue;
      const left = (this.batchWaiting.get(o.batchId) ?? 1) - 1;
      if (left > 0) this.batchWaiting.set(o.batchId, left);
      else {
        this.batchWaiting.delete(o.batchId);
        this.writer.batchDone(o.batchId);
      }
    }
  }
}
