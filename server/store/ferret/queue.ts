// The delivery queue port on the collections of deliveries.ts. A Trigger's deliveries are stored with
// its message (one write), in the lot this process holds at the time; a delivery gets a queue row when
// it needs a retry and a log row when it finishes, and a lot goes once each of its deliveries has one
// or the other. Nothing written at accept is written again on the way. All of that bookkeeping lives
// here.
import { newId } from "../../domain/ids.js";
import { errorFields, type Logger } from "../../telemetry/log.js";
import type { Delivery, DeliveryQueue, HeldDelivery, Message, ReleasedHolds, TakeWants } from "../../ports.js";
import { BATCH_DELIVERIES, reachOf, type BatchDoc, type DeliveryStore, type LotBatch, type Outcome } from "./deliveries.js";
import type { DeliveryDoc } from "../common/delivery-doc.js";
import type { MessageDoc, MessageStore } from "../common/messages.js";
import { packDeliveries } from "./packed.js";
import { holdAfterRecord, holdFrom, newHolder } from "../common/holds.js";
import { OutcomeWriter, type Unwritten } from "../common/outcome-writer.js";

/** A lot this process holds, as it keeps count of it. */
interface Lot {
  id: string;
  /** New messages go into it (the current lot). */
  open: boolean;
  /** Held deliveries of it whose first outcome is not stored yet, plus accepts and walk steps in progress. */
  waiting: number;
  /** Some of its deliveries were given up unattempted (or an accept failed half-way): at its end it is handed back, for any process to walk, instead of removed. */
  handBack: boolean;
  hasBatchRows: boolean;
  /** A lot taken over from another process: how far its walk has come. */
  walk?: { after: string | undefined; messagesDone: boolean; rowsDone: boolean };
}

/**
 * The delivery held by `holder` until `until`. Not `{ ...d, holder, holdUntil }`: on Node 20's V8, a
 * spread followed by keys its source lacks costs 4-6.5 µs an object, ten times writing those keys first
 * and setting them after (bench/object-spreads.ts), and a fan-out makes 10,000 of them.
 */
function heldBy(d: Delivery | DeliveryDoc, holder: string, until: Date): DeliveryDoc {
  const doc: DeliveryDoc = { holder, holdUntil: until, ...d };
  doc.holder = holder;
  doc.holdUntil = until;
  return doc;
}

/** An outcome to store, and the lot it was accepted into if this is its first (it had no row until now). */
interface WrittenOutcome extends Outcome, Unwritten {
  lotId?: string | undefined;
}

/** A lot taken over whose messages or batch rows are not all read yet. */
const walkUnfinished = (lot: Lot) => lot.walk !== undefined && !(lot.walk.messagesDone && lot.walk.rowsDone);

/** What the queue keeps beside a held delivery: where its latest state is stored. */
interface Entry extends HeldDelivery {
  delivery: DeliveryDoc;
  /** The delivery has a queue row (else it lives in its batch until its first outcome). */
  rowExists: boolean;
  /** Until its first outcome is stored: its lot, and its batch (a message's id, or a batch row's). */
  lot: Lot | undefined;
  batchId: string | undefined;
}

export interface QueueOptions {
  /** How long a hold lasts unless renewed; an expired one lets any process take the work. */
  holdMs: number;
  /** Told of each failed write of outcomes (store/write-health.ts decides whether the store is at fault). */
  writeFailed?: (err: unknown) => void;
}

/** Messages a lot's walk reads at a time. */
const WALK_PAGE = 200;

export class StoredDeliveryQueue implements DeliveryQueue {
  readonly holder = newHolder();
  private readonly writer: OutcomeWriter<WrittenOutcome>;
  private readonly lots = new Map<string, Lot>();
  /** Lots whose end could not be written yet: tried again at the next renewal. */
  private readonly ending = new Set<Lot>();
  private current: Lot | undefined;
  private opening: Promise<Lot> | undefined;
  private lastLotTake = 0;
  /** The last look for a lot found one: look again without waiting. */
  private lotFound = false;
  private registering: Promise<void> | undefined;
  /**
   * How long a lot takes new messages: well within its first hold, so a lot that still takes messages
   * can never have been taken over, whether or not its renewals get through.
   */
  private readonly lotMs: number;

  constructor(
    private readonly store: DeliveryStore,
    private readonly messages: MessageStore,
    private readonly log: Logger,
    private readonly opts: QueueOptions,
  ) {
    this.writer = new OutcomeWriter<WrittenOutcome>({
      write: (outcomes) => store.writeOutcomes(this.holder, outcomes.filter((o) => o.doc.status === "pending"), outcomes.filter((o) => o.doc.status !== "pending")),
      // If the older state was to insert the queue row, the newer one must insert it too, and keeps the older one's lot.
      merge: (older, newer) => ({ doc: newer.doc, rowExists: newer.rowExists && older.rowExists, lotId: older.lotId ?? newer.lotId }),
      written: (outcomes) => this.written(outcomes),
      failed: opts.writeFailed,
      log,
      // Outcomes wait this long to gather: nothing answers a Trigger from them, and at 10 deliveries a
      // Trigger 20 ms (against 5) cut the server's CPU per delivery by about a tenth and FerretDB's by
      // more (bench/HISTORY.md, fifth part); a Send's caller learns its result that much later.
      delayMs: 20,
    });
    this.lotMs = Math.min(1000, Math.floor(opts.holdMs / 4));
  }

  private holdUntil(now = Date.now()): Date {
    return holdFrom(now, this.opts.holdMs);
  }

  /** `holdUntil` is shared by the deliveries stored together (Dates here are replaced, never changed). */
  private stored(d: Delivery, holdUntil: Date): DeliveryDoc {
    return heldBy(d, this.holder, holdUntil);
  }

  /** The lot new messages go into: the current one, or a new one once it has taken messages for lotMs. */
  private currentLot(): Promise<Lot> {
    if (this.current) return Promise.resolve(this.current);
    this.opening ??= (async () => {
      const lot: Lot = { id: newId("lot"), open: true, waiting: 0, handBack: false, hasBatchRows: false };
      await this.store.openLot({ _id: lot.id, holder: this.holder, holdUntil: this.holdUntil(), createdAt: new Date(), reachKeyed: true });
      this.lots.set(lot.id, lot);
      this.current = lot;
      setTimeout(() => {
        if (this.current === lot) this.current = undefined;
        lot.open = false;
        this.maybeEnd(lot);
      }, this.lotMs).unref();
      return lot;
    })().finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** A lot with nothing left to wait for goes: removed, or handed back when some of it was given up. */
  private maybeEnd(lot: Lot): void {
    if (lot.open || lot.waiting > 0 || walkUnfinished(lot)) return;
    if (!this.lots.delete(lot.id)) return;
    this.ending.add(lot);
    void this.endLots();
  }

  private async endLots(): Promise<void> {
    for (const lot of [...this.ending]) {
      try {
        if (lot.handBack) await this.store.handBackLot(this.holder, lot.id);
        else await this.store.endLot(lot.id, lot.hasBatchRows);
        this.ending.delete(lot);
      } catch (err) {
        this.log.warn("ending a delivery lot failed; will retry", { lot: lot.id, ...errorFields(err) });
      }
    }
  }

  /** This process's registration as a holder (DeliveryStore.registerHolder), written once, before it first holds anything. */
  private registered(): Promise<void> {
    this.registering ??= this.store.registerHolder(this.holder).catch((err: unknown) => {
      this.registering = undefined; // tried again at the next hold
      throw err;
    });
    return this.registering;
  }

  async accept(message: Message, deliveries: Delivery[]): Promise<{ held: HeldDelivery[] } | { earlier: Message | null }> {
    await this.registered();
    if (deliveries.length === 0) {
      if (await this.messages.insert(message)) return { held: [] };
      return { earlier: await this.messages.byId(message._id) };
    }
    const lot = await this.currentLot();
    lot.waiting++; // an accept in progress keeps its lot from ending
    let stored = false;
    try {
      const now = new Date();
      const until = this.holdUntil(now.getTime());
      const docs = deliveries.map((d) => this.stored(d, until));
      // The first batch goes in the message document: for up to BATCH_DELIVERIES subscribers a Trigger is one write.
      const first = docs.slice(0, BATCH_DELIVERIES);
      const rows: BatchDoc[] = [];
      for (let i = BATCH_DELIVERIES; i < docs.length; i += BATCH_DELIVERIES) {
        rows.push({ _id: newId("bat"), tenant: message.tenant, messageId: message._id, lot: lot.id, createdAt: now, deliveries: packDeliveries(docs.slice(i, i + BATCH_DELIVERIES)) });
      }
      if (rows.length > 0) lot.hasBatchRows = true;
      await Promise.all(rows.map((b) => this.store.enqueueBatch(b)));
      // The message insert is the commit point: batch rows whose message is missing are never sent.
      // The keys the message lacks written first: see heldBy().
      const doc: MessageDoc = { lot: lot.id, reach: reachOf(docs), batch: packDeliveries(first), ...message };
      if (!(await this.messages.insert(doc))) {
        await this.store.dropBatches(rows.map((b) => b._id), true);
        stored = true;
        return { earlier: await this.messages.byId(message._id) };
      }
      stored = true;
      const held: Entry[] = [];
      for (let i = 0; i < docs.length; i++) {
        held.push({ delivery: docs[i]!, rowExists: false, lot, batchId: i < BATCH_DELIVERIES ? message._id : rows[Math.floor(i / BATCH_DELIVERIES) - 1]!._id });
      }
      lot.waiting += held.length;
      return { held };
    } finally {
      // A failed insert may still have been stored: the lot is then walked by whoever takes it, not removed.
      if (!stored) lot.handBack = true;
      lot.waiting--;
      this.maybeEnd(lot);
    }
  }

  async add(deliveries: Delivery[]): Promise<HeldDelivery[]> {
    await this.registered();
    const until = this.holdUntil(Date.now());
    const docs = deliveries.map((d) => this.stored(d, until));
    await this.store.enqueue(docs);
    return docs.map((d): Entry => ({ delivery: d, rowExists: true, lot: undefined, batchId: undefined }));
  }

  async takeDue(now: Date, limit: number, skip?: string[], wants?: TakeWants): Promise<HeldDelivery[]> {
    await this.registered();
    const rows = await this.store.takeDue(this.holder, now, this.holdUntil(now.getTime()), limit, skip, wants);
    const taken: Entry[] = rows.map((d) => ({ delivery: d, rowExists: true, lot: undefined, batchId: undefined }));
    // Lots are taken over only once their hold ran out, so they are looked for less often than retries;
    // but once one is found, the next is looked for as soon as its walk is done: a process killed while
    // it held several lots (one a second of Triggers) would otherwise have them taken one per holdMs/4.
    let walking = [...this.lots.values()].find(walkUnfinished);
    if (!walking && (this.lotFound || now.getTime() - this.lastLotTake >= this.opts.holdMs / 4)) {
      this.lastLotTake = now.getTime();
      const doc = await this.store.takeLot(this.holder, now, this.holdUntil(now.getTime()));
      this.lotFound = doc !== undefined;
      if (doc && !this.lots.has(doc._id)) {
        // Whether it has batch rows is not known: its end removes any.
        walking = { id: doc._id, open: false, waiting: 0, handBack: false, hasBatchRows: true, walk: { after: undefined, messagesDone: false, rowsDone: false } };
        this.lots.set(walking.id, walking);
      }
    }
    if (walking) taken.push(...(await this.walk(walking, Math.max(1, limit - rows.length), now)));
    return taken;
  }

  /** Takes on about `room` of a taken-over lot's deliveries that have no row yet, from where its walk stands. */
  private async walk(lot: Lot, room: number, now: Date): Promise<Entry[]> {
    const walk = lot.walk!;
    const out: Entry[] = [];
    const holdUntil = this.holdUntil(now.getTime());
    const take = async (batches: LotBatch[], rows: boolean) => {
      for (const b of batches) {
        const done = await this.store.existing(b.deliveries.map((d) => d._id));
        for (const d of b.deliveries) {
          if (!done.has(d._id)) out.push({ delivery: heldBy(d, this.holder, holdUntil), rowExists: false, lot, batchId: rows ? b._id : b.messageId });
        }
      }
    };
    lot.waiting++;
    try {
      while (out.length < room && !walk.messagesDone) {
        const page = await this.store.lotMessages(lot.id, walk.after, WALK_PAGE);
        await take(page, false);
        walk.after = page.at(-1)?._id ?? walk.after;
        walk.messagesDone = page.length < WALK_PAGE;
      }
      if (out.length < room && walk.messagesDone && !walk.rowsDone) {
        await take(await this.store.lotRows(lot.id), true);
        walk.rowsDone = true;
      }
      lot.waiting += out.length;
      return out;
    } finally {
      lot.waiting--;
      this.maybeEnd(lot);
    }
  }

  record(item: HeldDelivery, next: Delivery, keep: boolean): Promise<void> {
    const entry = item as Entry;
    const hold = holdAfterRecord(this.holder, next, keep, this.opts.holdMs);
    const doc: DeliveryDoc = { ...next, holder: hold.holder, holdUntil: hold.holdUntil };
    const stored = this.writer.add({ doc, rowExists: entry.rowExists, lotId: entry.lot?.id });
    // From its first outcome on, the delivery has a row of its own (queue or log); its lot counts it done once that is stored.
    entry.delivery = doc;
    entry.rowExists = true;
    entry.lot = undefined;
    entry.batchId = undefined;
    return stored;
  }

  /** Lot entries no longer waited for by this process (their lots are told), and the rest. */
  private leave(entries: Entry[], handBack: boolean): Entry[] {
    for (const e of entries) {
      if (!e.lot) continue;
      e.lot.waiting--;
      if (handBack) e.lot.handBack = true;
      this.maybeEnd(e.lot);
    }
    return entries.filter((e) => e.rowExists);
  }

  /** No longer attempted here: rows' holds run out as they stand; a lot with such deliveries is handed back at its end. */
  async release(items: HeldDelivery[]): Promise<void> {
    const entries = items as Entry[];
    const inLots = entries.filter((e) => e.lot);
    const rows = this.leave(entries, true);
    for (const e of inLots) e.lot = undefined;
    await this.store.release(this.holder, rows.map((e) => e.delivery._id));
  }

  /** Orphans (their message was never stored) and deliveries that must not be sent: their batches go whole. */
  async drop(items: HeldDelivery[]): Promise<void> {
    const entries = items as Entry[];
    const batchRows = new Set<string>();
    const messageBatches = new Set<string>();
    for (const e of entries) if (e.lot && e.batchId) (e.batchId === e.delivery.messageId ? messageBatches : batchRows).add(e.batchId);
    await this.store.dropBatches([...batchRows], true);
    await this.store.dropBatches([...messageBatches], false);
    const rows = this.leave(entries, false);
    await this.store.dropIds(this.holder, rows.map((e) => e.delivery._id));
  }

  async renew(): Promise<void> {
    await this.store.renew(this.holder, this.holdUntil());
    if (this.ending.size > 0) await this.endLots();
  }

  async releaseAll(): Promise<void> {
    await this.store.releaseAll(this.holder);
    this.registering = undefined;
    this.lots.clear();
    this.current = undefined;
  }

  async releaseDeadHolders(dead: (holder: string) => boolean): Promise<ReleasedHolds> {
    const released = await this.store.releaseDeadHolders(this.holder, dead);
    // Released lots are looked for at the next take, not a quarter of a hold after the last look.
    if (released.lots > 0) this.lotFound = true;
    return released;
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
      const lot = o.lotId ? this.lots.get(o.lotId) : undefined;
      if (!lot) continue;
      lot.waiting--;
      this.maybeEnd(lot);
    }
  }
}
