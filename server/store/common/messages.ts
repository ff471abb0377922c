import type { Collection } from "mongodb";
import type { Message, Messages } from "../../ports.js";
import type { DeliveryDoc } from "./delivery-doc.js";
import { foundById } from "./found-by-id.js";
import { duplicateIndexes } from "./duplicate-key.js";
import { GroupCommit } from "./group-commit.js";

/**
 * The port's Message, field for field; in the FerretDB layout the message document also holds its
 * Trigger's first deliveries as its batch, and the lot it was accepted into (see deliveries.ts), so a
 * Trigger is one write.
 */
export interface MessageDoc extends Message {
  lot?: string;
  /** Whom its deliveries are for, as a list by owner looks for them in a live lot (ferret/deliveries.ts reachOf). */
  reach?: string;
  /** Packed (packed.ts); an array in documents written before packing. */
  batch?: string | DeliveryDoc[];
}

export class MessageStore implements Messages {
  private readonly inserts: GroupCommit<MessageDoc, boolean>;

  constructor(private readonly col: Collection<MessageDoc>) {
    this.inserts = new GroupCommit(async (docs) => {
      try {
        await this.col.insertMany(docs, { ordered: false });
        return docs.map(() => true);
      } catch (err) {
        const dup = duplicateIndexes(err);
        return docs.map((_, i) => !dup.has(i));
      }
    });
  }

  /**
   * Inserts the message, sharing one insert command with concurrent callers; false when a message with
   * this id exists already (a repeated idempotency key).
   */
  insert(doc: MessageDoc): Promise<boolean> {
    return this.inserts.add(doc);
  }

  /** By id alone: the one filter FerretDB's SQLite backend answers without a scan. The batch stays in the store. */
  byId(id: string): Promise<MessageDoc | null> {
    return this.col.findOne({ _id: id }, { projection: { batch: 0 } });
  }

  /** Only the ids come back, not the bodies. */
  existing(ids: string[]): Promise<Set<string>> {
    return foundById([this.col], [...new Set(ids)], 32);
  }

  async get(tenant: string, id: string): Promise<MessageDoc | null> {
    const doc = await this.byId(id);
    return doc && doc.tenant === tenant ? doc : null;
  }
}
