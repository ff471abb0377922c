import type { Collection } from "mongodb";

export interface SubscriptionDoc {
  _id: string;
  tenant: string;
  url: string;
  events: string[];
  /** Kept to sign deliveries; never logged, returned only on creation. */
  secret: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
  disabled: boolean;
  disabledReason: string;
  /** This subscription's own delivery policy; what is unset falls back to the server's defaults. */
  policy: PolicyOverrides;
}

export interface PolicyOverrides {
  retries?: number | undefined;
  retryDelayMs?: number | undefined;
  timeoutMs?: number | undefined;
}

export type SubscriptionChanges = Partial<Pick<SubscriptionDoc, "url" | "events" | "description" | "disabled" | "disabledReason" | "policy">>;

export class SubscriptionStore {
  constructor(private readonly col: Collection<SubscriptionDoc>) {}

  async ensureIndexes(): Promise<void> {
    await this.col.createIndex({ tenant: 1, _id: 1 });
  }

  async insert(doc: SubscriptionDoc): Promise<void> {
    await this.col.insertOne(doc);
  }

  get(tenant: string, id: string): Promise<SubscriptionDoc | null> {
    return this.col.findOne({ _id: id, tenant });
  }

  /** Up to `limit` subscriptions of the tenant with ids after `afterId`, in id (creation) order. */
  list(tenant: string, afterId: string | undefined, limit: number): Promise<SubscriptionDoc[]> {
    const filter = afterId === undefined ? { tenant } : { tenant, _id: { $gt: afterId } };
    return this.col.find(filter).sort({ _id: 1 }).limit(limit).toArray();
  }

  update(tenant: string, id: string, changes: SubscriptionChanges, now: Date): Promise<SubscriptionDoc | null> {
    return this.col.findOneAndUpdate({ _id: id, tenant }, { $set: { ...changes, updatedAt: now } }, { returnDocument: "after" });
  }

  /** The tenant's subscriptions that are not disabled; event matching happens in the caller. */
  active(tenant: string): Promise<SubscriptionDoc[]> {
    return this.col.find({ tenant, disabled: false }).toArray();
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    const res = await this.col.deleteOne({ _id: id, tenant });
    return res.deletedCount === 1;
  }
}
