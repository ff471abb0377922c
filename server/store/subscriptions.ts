import type { Collection } from "mongodb";
import { GroupCommit } from "./group-commit.js";

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
  /** Secrets replaced by RotateSecret that still sign deliveries until they expire. */
  previousSecrets?: PreviousSecret[];
}

export interface PreviousSecret {
  secret: string;
  expiresAt: Date;
}

export interface PolicyOverrides {
  retries?: number | undefined;
  retryDelayMs?: number | undefined;
  timeoutMs?: number | undefined;
}

export type SubscriptionChanges = Partial<Pick<SubscriptionDoc, "url" | "events" | "description" | "disabled" | "disabledReason" | "policy" | "secret" | "previousSecrets">>;

interface TenantDoc {
  _id: string;
  /** Bumped by every change to the tenant's subscriptions, so readers can cache them until it moves. */
  subscriptionsVersion: number;
}

export class SubscriptionStore {
  /** Active subscriptions per tenant, valid while the tenant's version is unchanged. */
  private readonly cache = new Map<string, { version: number; subs: SubscriptionDoc[] }>();

  /** Concurrent Triggers share one read of the tenants' versions; each read starts after its callers arrived. */
  private readonly versions: GroupCommit<string, number>;

  constructor(
    private readonly col: Collection<SubscriptionDoc>,
    private readonly tenants: Collection<TenantDoc>,
  ) {
    this.versions = new GroupCommit(async (ids) => {
      const unique = [...new Set(ids)];
      const docs = await (unique.length === 1 ? this.tenants.find({ _id: unique[0]! }) : this.tenants.find({ _id: { $in: unique } })).toArray();
      const byId = new Map(docs.map((d) => [d._id, d.subscriptionsVersion]));
      return ids.map((id) => byId.get(id) ?? 0);
    });
  }

  async ensureIndexes(): Promise<void> {
    await this.col.createIndex({ tenant: 1, _id: 1 });
  }

  async insert(doc: SubscriptionDoc): Promise<void> {
    await this.col.insertOne(doc);
    await this.bump(doc.tenant);
  }

  private async bump(tenant: string): Promise<void> {
    const inc = () => this.tenants.updateOne({ _id: tenant }, { $inc: { subscriptionsVersion: 1 } }, { upsert: true });
    try {
      await inc();
    } catch (err) {
      // Two first-ever bumps of a tenant can both try to insert its document; the loser just increments.
      if ((err as { code?: number }).code !== 11000) throw err;
      await inc();
    }
  }

  get(tenant: string, id: string): Promise<SubscriptionDoc | null> {
    return this.col.findOne({ _id: id, tenant });
  }

  /** Up to `limit` subscriptions of the tenant with ids after `afterId`, in id (creation) order. */
  list(tenant: string, afterId: string | undefined, limit: number): Promise<SubscriptionDoc[]> {
    const filter = afterId === undefined ? { tenant } : { tenant, _id: { $gt: afterId } };
    return this.col.find(filter).sort({ _id: 1 }).limit(limit).toArray();
  }

  async update(tenant: string, id: string, changes: SubscriptionChanges, now: Date): Promise<SubscriptionDoc | null> {
    const doc = await this.col.findOneAndUpdate({ _id: id, tenant }, { $set: { ...changes, updatedAt: now } }, { returnDocument: "after" });
    if (doc) await this.bump(tenant);
    return doc;
  }

  /**
   * The tenant's subscriptions that are not disabled; event matching happens in the caller.
   * One read by _id when nothing changed (FerretDB answers other filters by scanning the collection);
   * the version is read before the list, so a change racing the reload makes the next call reload again.
   */
  async active(tenant: string): Promise<SubscriptionDoc[]> {
    const version = await this.versions.add(tenant);
    const cached = this.cache.get(tenant);
    if (cached && cached.version === version) return cached.subs;
    const subs = await this.col.find({ tenant, disabled: false }).toArray();
    this.cache.set(tenant, { version, subs });
    return subs;
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    const res = await this.col.deleteOne({ _id: id, tenant });
    if (res.deletedCount !== 1) return false;
    await this.bump(tenant);
    return true;
  }
}
