// The tenants' event type catalogs, the same in both layouts: `event_types`, one document per entry,
// read by _id (Get, Trigger's schema) and by a walk of the tenant index sorted by _id (List); and
// `event_type_versions`, one document per tenant whose version every change moves and whose count is
// the quota's (one read by _id, as FerretDB's count reads every row).
//
// A Trigger asks schemaDigest for every event, and most events have no entry: so each process keeps,
// per tenant, the digests of the entries that have a schema, and answers from them without a read while
// they are known to be current. Known the way subscription lists are (subscription-view.ts): every
// catalog change takes a change epoch and is answered only once every live process has seen it, which
// makes their cached catalogs stale (a new generation), so the next Trigger anywhere re-reads the
// tenant's version (one read by _id) and, only when it moved, the tenant's entries (names and digests).
// While a process cannot confirm its view (its reads of the epochs fail, or the store was opened
// without following them), each group of concurrent Triggers reads the version first. The epochs are
// shared with the subscriptions: a catalog change costs the other processes one version read of
// their subscription lists too, and catalog changes are rare.
import { createHash } from "node:crypto";
import type { Collection } from "mongodb";
import type { EventType, EventTypeFields, EventTypes } from "../../ports.js";
import { isDuplicateKey, upserting } from "./duplicate-key.js";
import type { GroupCommit } from "./group-commit.js";
import { tenantVersions } from "./tenant-versions.js";
import type { SubscriptionView } from "./subscription-view.js";
import { ensureWalkIndex } from "./walk-index.js";

export type EventTypeDoc = EventType & { _id: string };

interface CatalogVersionDoc {
  /** The tenant. */
  _id: string;
  version: number;
  /** Entries stored, moved in the same write as the version (a process dying between the two leaves it one off). */
  count: number;
}

/**
 * An entry's _id: "et_", 20 hex digits of the tenant's SHA-256 (tenant names may hold '.', which a
 * walk index's _ids may not), "_", then the name with '-' written "-d" and '.' written "-p". That keeps
 * the _ids of one tenant in the order of the names (both escapes start with '-', below every other
 * character a name may hold, and "-d" sorts below "-p" as '-' below '.'), so the tenant's walk index
 * sorted by _id lists names in order. The tenant is checked on every read, so a hash collision can
 * never show one tenant another's entry.
 */
export function eventTypeId(tenant: string, name: string): string {
  const t = createHash("sha256").update(tenant).digest("hex").slice(0, 20);
  return `et_${t}_${name.replace(/[-.]/g, (c) => (c === "-" ? "-d" : "-p"))}`;
}

const FIELDS = ["description", "schema", "schemaDigest", "example"] as const;

function fromDoc(doc: EventTypeDoc): EventType {
  const { _id, ...rest } = doc;
  return rest;
}

/** What each process knows of a tenant's catalog: the digests of its entries with a schema. */
interface Cached {
  version: number;
  /** The view's generation it was checked under (subscription-view.ts). */
  generation: number;
  digests: Map<string, string>;
}

export class EventTypeStore implements EventTypes {
  private readonly cache = new Map<string, Cached>();
  /** Bumped by this process's own changes: digests loaded across one are answered but not kept. */
  private readonly localChanges = new Map<string, number>();
  /** Concurrent Triggers share one read of the tenants' versions. */
  private readonly versions: GroupCommit<string, number>;

  constructor(
    private readonly col: Collection<EventTypeDoc>,
    private readonly counters: Collection<CatalogVersionDoc>,
    /** Tells when cached catalogs are current without a read; unset, they never are. */
    private readonly view?: SubscriptionView,
  ) {
    this.versions = tenantVersions(counters, (d) => d.version);
  }

  async ensureIndexes(): Promise<void> {
    await ensureWalkIndex(this.col, ["tenant"]);
  }

  async insert(doc: EventType): Promise<boolean> {
    try {
      // Absent fields stay absent: the driver would store an undefined one as null.
      const stored = Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined)) as EventType;
      await this.col.insertOne({ _id: eventTypeId(doc.tenant, doc.name), ...stored });
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
    await this.changed(doc.tenant, 1);
    return true;
  }

  /** By _id alone, the tenant checked after: the one filter FerretDB's SQLite backend answers without a scan. */
  async get(tenant: string, name: string): Promise<EventType | null> {
    const doc = await this.col.findOne({ _id: eventTypeId(tenant, name) });
    return doc && doc.tenant === tenant ? fromDoc(doc) : null;
  }

  async list(tenant: string, afterName: string | undefined, limit: number): Promise<EventType[]> {
    const filter = afterName === undefined ? { tenant } : { tenant, _id: { $gt: eventTypeId(tenant, afterName) } };
    return (await this.col.find(filter).sort({ _id: 1 }).limit(limit).toArray()).map(fromDoc);
  }

  async update(tenant: string, name: string, fields: EventTypeFields, now: Date): Promise<EventType | null> {
    const set: Record<string, unknown> = { updatedAt: now };
    const unset: Record<string, ""> = {};
    for (const f of FIELDS) {
      if (fields[f] === undefined) unset[f] = "";
      else set[f] = fields[f];
    }
    const doc = await this.col.findOneAndUpdate(
      { _id: eventTypeId(tenant, name), tenant },
      Object.keys(unset).length > 0 ? { $set: set, $unset: unset } : { $set: set },
      { returnDocument: "after" },
    );
    if (!doc) return null;
    await this.changed(tenant, 0);
    return fromDoc(doc);
  }

  async delete(tenant: string, name: string): Promise<boolean> {
    const res = await this.col.deleteOne({ _id: eventTypeId(tenant, name), tenant });
    if (res.deletedCount !== 1) return false;
    await this.changed(tenant, -1);
    return true;
  }

  async count(tenant: string): Promise<number> {
    return (await this.counters.findOne({ _id: tenant }))?.count ?? 0;
  }

  /** After a change is stored: `added` is how the count moved (+1, -1, or 0 for an update). */
  private async changed(tenant: string, added: number): Promise<void> {
    // This process's own change applies at once to its next Trigger.
    this.cache.delete(tenant);
    this.localChanges.set(tenant, (this.localChanges.get(tenant) ?? 0) + 1);
    await upserting(() => this.counters.updateOne({ _id: tenant }, { $inc: { version: 1, count: added } }, { upsert: true }));
    // Answered once every other process has seen it: their cached catalogs then serve no Trigger.
    await this.view?.changed();
  }

  async schemaDigest(tenant: string, name: string): Promise<string | undefined> {
    return (await this.digests(tenant)).get(name);
  }

  private async digests(tenant: string): Promise<Map<string, string>> {
    const cached = this.cache.get(tenant);
    if (cached && this.view?.current && cached.generation === this.view.generation) return cached.digests;
    // Taken before the reads: a change seen meanwhile leaves the entry of an older generation.
    const generation = this.view?.generation ?? 0;
    const changes = this.localChanges.get(tenant) ?? 0;
    // The version before the entries, so a change racing the reload makes the next call reload again.
    const version = await this.versions.add(tenant);
    const again = this.cache.get(tenant);
    if (again && again.version === version) {
      again.generation = generation;
      return again.digests;
    }
    const digests = new Map<string, string>();
    for await (const doc of this.col.find({ tenant }, { projection: { name: 1, schemaDigest: 1 } })) {
      if (doc.schemaDigest) digests.set(doc.name, doc.schemaDigest);
    }
    if ((this.localChanges.get(tenant) ?? 0) === changes) this.cache.set(tenant, { version, generation, digests });
    return digests;
  }
}
