import type { Collection } from "mongodb";

export interface MessageDoc {
  _id: string;
  tenant: string;
  event: string;
  /** The JSON envelope exactly as delivered; user JSON stays a string, never document keys. */
  body: string;
  idempotencyKey: string;
  deliveries: number;
  createdAt: Date;
}

export class MessageStore {
  constructor(private readonly col: Collection<MessageDoc>) {}

  async ensureIndexes(): Promise<void> {
    await this.col.createIndex({ tenant: 1, _id: 1 });
  }

  /** Inserts the message; false when a message with this id exists already (a repeated idempotency key). */
  async insert(doc: MessageDoc): Promise<boolean> {
    try {
      await this.col.insertOne(doc);
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 11000) return false;
      throw err;
    }
  }

  /** By id alone: the one filter FerretDB's SQLite backend answers without a scan. */
  byId(id: string): Promise<MessageDoc | null> {
    return this.col.findOne({ _id: id });
  }

  async get(tenant: string, id: string): Promise<MessageDoc | null> {
    const doc = await this.byId(id);
    return doc && doc.tenant === tenant ? doc : null;
  }
}
