// Recovery's marks, the same in both layouts: a document per recovered delivery, whose _id is the
// original delivery's id, so the store's duplicate-key answer on one insert says which were marked
// before. That is exact even for calls running at once (the _id index is unique in SQLite as in
// MongoDB), costs one insert per page whatever the log holds, and leaves the log rows alone: marking
// the originals instead would rewrite each log row, which FerretDB does document by document (read,
// change in Go, write back with every index), and a redelivery id derived from its original's would
// sort beside the original rather than at its own creation time, which list order and ranges rely on.
import type { Collection } from "mongodb";
import { idFloor } from "../../domain/ids.js";
import type { Recoveries } from "../../ports.js";
import { duplicateIndexes, upserting } from "./duplicate-key.js";
import { deleteById } from "./delete-by-id.js";

/** Deliveries' ids, which marks are keyed by (server/usecases/messages.ts makes them). */
const DELIVERY_PREFIX = "dlv";
/** Marks read at once by redeliveries(): a page of deliveries is at most 100. */
const AT_ONCE = 25;

export interface RecoveryDoc {
  /** The failed delivery that was redelivered. */
  _id: string;
  tenant: string;
  /** The delivery made for it. */
  redelivery: string;
  at: Date;
}

export class RecoveryStore implements Recoveries {
  constructor(private readonly col: Collection<RecoveryDoc>) {}

  async mark(tenant: string, pairs: Array<{ original: string; redelivery: string }>): Promise<Set<string>> {
    if (pairs.length === 0) return new Set();
    const at = new Date();
    const docs = pairs.map((p) => ({ _id: p.original, tenant, redelivery: p.redelivery, at }));
    let earlier = new Set<number>();
    try {
      await this.col.insertMany(docs, { ordered: false });
    } catch (err) {
      earlier = duplicateIndexes(err);
    }
    return new Set(pairs.filter((_, i) => !earlier.has(i)).map((p) => p.original));
  }

  async unmark(originals: string[]): Promise<void> {
    await deleteById(this.col, originals);
  }

  async link(tenant: string, original: string, redelivery: string): Promise<void> {
    // By _id, the one filter FerretDB answers from its index; one document rewritten.
    await upserting(() => this.col.updateOne({ _id: original }, { $set: { tenant, redelivery, at: new Date() } }, { upsert: true }));
  }

  async redeliveries(tenant: string, originals: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    // By _id a few at a time (FerretDB matches an $in list against every mark it reads): a page's own.
    for (let i = 0; i < originals.length; i += AT_ONCE) {
      const docs = await Promise.all(originals.slice(i, i + AT_ONCE).map((_id) => this.col.findOne({ _id })));
      for (const d of docs) if (d && d.tenant === tenant) out.set(d._id, d.redelivery);
    }
    return out;
  }

  async forget(before: Date, limit: number): Promise<number> {
    // A mark's _id is its delivery's id, which begins with the delivery's creation time. On FerretDB the
    // range is matched in Go, but with no sort the read stops at the limit, and marks are few (one per
    // recovered delivery, and retention keeps them from growing).
    const old = await this.col.find({ _id: { $lt: idFloor(DELIVERY_PREFIX, before.getTime()) } }, { projection: { _id: 1 } }).limit(limit).toArray();
    await this.unmark(old.map((d) => d._id));
    return old.length;
  }
}
