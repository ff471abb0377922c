import type { Collection, Filter, UpdateFilter } from "mongodb";
import type { GroupCommit } from "./group-commit.js";
import { tenantVersions } from "./tenant-versions.js";
import { upserting } from "./duplicate-key.js";
import type { SecretBox } from "../../domain/secret-box.js";
import type { EndpointHeader } from "../../domain/endpoint-headers.js";
import type { Audience, Subscription, SubscriptionChanges, Subscriptions } from "../../ports.js";
import { runOnce } from "./run-once.js";
import { ensureWalkIndex } from "./walk-index.js";
import type { SubscriptionView } from "./subscription-view.js";

/**
 * Stored as the port's Subscription, field for field, its secrets sealed, and its extra headers (names
 * and values, so no caller's name becomes a document key) sealed as one JSON text, absent when none.
 */
export type SubscriptionDoc = Omit<Subscription, "headers"> & { headers?: string };

/** Changes as written: secrets and headers sealed. */
type StoredChanges = Omit<SubscriptionChanges, "headers"> & { headers?: string };

interface TenantDoc {
  _id: string;
  /** Moved with the counter (versions before owners cached the tenant's list by it; the scopes' versions serve now). */
  subscriptionsVersion: number;
  /**
   * How many subscriptions the tenant has, moved by every insert and delete in the same write as the
   * version, so the quota is one read by _id (FerretDB's count reads every row). Absent in a database
   * written before it existed, until counted once (countOnce).
   */
  subscriptionCount?: number;
}

/** How long a checked active list serves attempts without another version read. */
const ACTIVE_FRESH_MS = 250;

/** Where a subscription's secrets are bound when sealed: a sealed value does not open in another record. */
const sealContext = (doc: { tenant: string; _id: string }) => `subscription:${doc.tenant}:${doc._id}`;
/** Its headers' own binding: a sealed secret copied into the headers field does not open there, nor the other way. */
const headersContext = (doc: { tenant: string; _id: string }) => `${sealContext(doc)}:headers`;

/**
 * One owner's subscriptions in one tenant: the set a Trigger for that owner reads (the tenant's own being
 * owner ""). Its document in subscription_scopes carries a version moved by every change to the set, and
 * the owner's count for its quota.
 */
interface ScopeDoc {
  _id: string;
  version: number;
  /** The owner's subscriptions, disabled ones included (absent for the tenant's own set: the tenant's counter serves). */
  count?: number;
}

const scopeKey = (tenant: string, owner: string) => `${tenant}\n${owner}`;

/**
 * Owners' active lists kept in memory, the least recently used dropped first: a platform's 100,000
 * customers in one tenant are not all held, and a Trigger for one that is not costs one read of its rows.
 */
const MAX_CACHED_SCOPES = 10_000;

interface CachedScope {
  version: number;
  checkedAt: number;
  generation: number;
  subs: Subscription[];
  byId: Map<string, Subscription>;
}

export class SubscriptionStore implements Subscriptions {
  /** Active subscriptions per scope (tenant and owner), valid while the scope's version is unchanged; least recently used first. */
  private readonly cache = new Map<string, CachedScope>();
  /** Bumped by this process's own changes: a list loaded across one is not kept. */
  private localChanges = 0;

  /**
   * Each scope's list read in flight, with what it was read under. When cached lists are dropped at once (a
   * view that ran out while the store was down), every Trigger and attempt of a scope came to read the same
   * list at the same moment: hundreds of identical reads on a store just back, each answered after 100-300 ms
   * (the soak's catch-up, bench/README.md). A caller joins a read only when it would have read the same: the
   * same version, view generation and own changes, so nothing it must see can postdate the read's start.
   */
  private readonly loading = new Map<string, { version: number; generation: number; changes: number; subs: Promise<Subscription[]> }>();

  /** Tenants whose stored counter this process has seen, so its own $inc moves a real count, not one from nothing. */
  private readonly counted = new Set<string>();

  /** Concurrent Triggers share the reads of their scopes' versions; each read starts after its callers arrived. */
  private readonly versions: GroupCommit<string, number>;

  constructor(
    private readonly col: Collection<SubscriptionDoc>,
    private readonly tenants: Collection<TenantDoc>,
    private readonly scopes: Collection<ScopeDoc>,
    private readonly meta: Collection<{ _id: string }>,
    private readonly box: SecretBox,
    /** How long a Trigger may match against a list without reading the scope's version (0: every Trigger group reads it). */
    private readonly triggerFreshMs = 0,
    /** Tells when cached lists are current without a read (every change is confirmed by every process); unset, they never are. */
    private readonly view?: SubscriptionView,
  ) {
    this.versions = tenantVersions(scopes, (d) => d.version);
  }

  async ensureIndexes(): Promise<void> {
    // Subscriptions stored before owners get the tenant's own owner first: the walk indexes declare it a string.
    await runOnce(this.meta, "subscriptions-owned", async () => {
      await this.col.updateMany({ owner: { $exists: false } }, { $set: { owner: "" } });
    });
    await ensureWalkIndex(this.col, ["tenant"]);
    await ensureWalkIndex(this.col, ["tenant", "owner"]);
  }

  /**
   * Seals every secret stored in plain text (before encryption existed), and every secret and headers
   * sealed under a key that no longer seals (after a key rotation); answers how many subscriptions were
   * rewritten. One pass over a small collection at start.
   */
  async resealAll(): Promise<number> {
    let count = 0;
    for await (const stored of this.col.find({}, { projection: { tenant: 1, secret: 1, previousSecrets: 1, headers: 1 } })) {
      const values = [stored.secret, ...(stored.previousSecrets ?? []).map((p) => p.secret), ...(stored.headers === undefined ? [] : [stored.headers])];
      if (values.every((v) => this.box.isCurrent(v))) continue;
      const plain = this.open(stored as SubscriptionDoc);
      const changes: SubscriptionChanges = { secret: plain.secret, previousSecrets: plain.previousSecrets ?? [] };
      if (plain.headers) changes.headers = plain.headers;
      await this.col.updateOne({ _id: stored._id }, { $set: this.sealSecrets(changes, stored) });
      count++;
    }
    return count;
  }

  /** The changes as stored: secrets sealed; headers sealed as one text (an empty list is stored as none, see update). */
  private sealSecrets(changes: SubscriptionChanges, where: { tenant: string; _id: string }): StoredChanges {
    const { headers, ...rest } = changes;
    const out: StoredChanges = { ...rest };
    const ctx = sealContext(where);
    if (changes.secret !== undefined) out.secret = this.box.seal(changes.secret, ctx);
    if (changes.previousSecrets !== undefined) out.previousSecrets = changes.previousSecrets.map((p) => ({ ...p, secret: this.box.seal(p.secret, ctx) }));
    if (headers !== undefined && headers.length > 0) out.headers = this.box.seal(JSON.stringify(headers.map((h) => [h.name, h.value])), headersContext(where));
    return out;
  }

  /** A stored document with its secrets and headers in plain text, for the code that signs and sends. */
  private open(stored: SubscriptionDoc): Subscription {
    const ctx = sealContext(stored);
    const { headers, ...rest } = stored;
    const doc: Subscription = { ...rest, secret: this.box.openOrPlain(stored.secret, ctx) };
    if (stored.previousSecrets) doc.previousSecrets = stored.previousSecrets.map((p) => ({ ...p, secret: this.box.openOrPlain(p.secret, ctx) }));
    // Always sealed: headers are newer than encryption at rest.
    if (headers !== undefined) doc.headers = (JSON.parse(this.box.open(headers, headersContext(stored))) as Array<[string, string]>).map(([name, value]): EndpointHeader => ({ name, value }));
    return doc;
  }

  async insert(doc: Subscription): Promise<void> {
    if (!this.counted.has(doc.tenant)) await this.count(doc.tenant);
    const { headers, ...rest } = doc;
    const sealed = this.sealSecrets({ secret: doc.secret, ...(doc.previousSecrets ? { previousSecrets: doc.previousSecrets } : {}), ...(headers ? { headers } : {}) }, doc);
    await this.col.insertOne({ ...rest, ...sealed });
    await this.bump(doc.tenant, doc.owner, 1);
  }

  /**
   * The tenant's counter, or an owner's. A process that dies between a subscription's write and the
   * counters' leaves them one off, as it leaves the version one behind; processes of a version before the
   * counter do not move it. Only the quotas rely on it, and a quota that is a few off is still a quota.
   * An owner's counter starts with its first subscription (owners are newer than counters), so only the
   * tenant's may need counting once.
   */
  async count(tenant: string, owner?: string): Promise<number> {
    if (owner !== undefined && owner !== "") {
      return (await this.scopes.findOne({ _id: scopeKey(tenant, owner) }, { projection: { count: 1 } }))?.count ?? 0;
    }
    const doc = await this.tenants.findOne({ _id: tenant }, { projection: { subscriptionCount: 1 } });
    if (typeof doc?.subscriptionCount === "number") {
      this.counted.add(tenant);
      return doc.subscriptionCount;
    }
    return this.countOnce(tenant, doc !== null);
  }

  /**
   * A tenant with no counter yet: its subscriptions walked once (the walk index, ids only) and the
   * number stored unless another process stored one first. Every insert and delete makes sure of the
   * counter before its own write, so none can move it from nothing while the walk runs.
   */
  private async countOnce(tenant: string, hasDoc: boolean): Promise<number> {
    let n = 0;
    for await (const _ of this.col.find({ tenant }, { projection: { _id: 1 } }).sort({ _id: 1 })) n++;
    if (hasDoc) await this.tenants.updateOne({ _id: tenant, subscriptionCount: { $exists: false } }, { $set: { subscriptionCount: n } });
    else await upserting(() => this.tenants.updateOne({ _id: tenant }, { $setOnInsert: { subscriptionsVersion: 0, subscriptionCount: n } }, { upsert: true }));
    const doc = await this.tenants.findOne({ _id: tenant }, { projection: { subscriptionCount: 1 } });
    this.counted.add(tenant);
    return doc?.subscriptionCount ?? n;
  }

  /** `added`: how the number of subscriptions moved (+1 insert, -1 delete, 0 a change): the counters move with it. */
  private async bump(tenant: string, owner: string, added = 0): Promise<void> {
    const key = scopeKey(tenant, owner);
    // This process's own change applies at once to its next read, whatever the cache's age.
    this.cache.delete(key);
    this.localChanges++;
    const scopeInc = added === 0 || owner === "" ? { version: 1 } : { version: 1, count: added };
    await upserting(() => this.scopes.updateOne({ _id: key }, { $inc: scopeInc }, { upsert: true }));
    if (added !== 0) await upserting(() => this.tenants.updateOne({ _id: tenant }, { $inc: { subscriptionsVersion: 1, subscriptionCount: added } }, { upsert: true }));
    // Answered once every other process has seen it: their cached lists then serve no Trigger.
    await this.view?.changed();
  }

  /** A cached list every process's changes are known to have reached (subscription-view.ts). */
  private viewed(key: string): CachedScope | undefined {
    const cached = this.cache.get(key);
    return cached && this.view?.current && cached.generation === this.view.generation ? this.touch(key, cached) : undefined;
  }

  /** Marks a cached scope as just used (the cache drops the least recently used first). */
  private touch(key: string, cached: CachedScope): CachedScope {
    this.cache.delete(key);
    this.cache.set(key, cached);
    return cached;
  }

  private keep(key: string, entry: CachedScope): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    while (this.cache.size > MAX_CACHED_SCOPES) this.cache.delete(this.cache.keys().next().value!);
  }

  /** By _id alone, the tenant checked after: the one filter FerretDB's SQLite backend answers without a scan. */
  async get(tenant: string, id: string): Promise<Subscription | null> {
    const doc = await this.col.findOne({ _id: id });
    return doc && doc.tenant === tenant ? this.open(doc) : null;
  }

  /** Up to `limit` subscriptions of the tenant (of one owner, when given) with ids after `afterId`, in id (creation) order. */
  async list(tenant: string, afterId: string | undefined, limit: number, owner?: string, newestFirst = false): Promise<Subscription[]> {
    const filter: Filter<SubscriptionDoc> = owner === undefined ? { tenant } : { tenant, owner };
    // Either way an _id-sorted walk of the same index (FerretDB's walk reads it down as well as up).
    if (afterId !== undefined) filter._id = newestFirst ? { $lt: afterId } : { $gt: afterId };
    return (await this.col.find(filter).sort({ _id: newestFirst ? -1 : 1 }).limit(limit).toArray()).map((d) => this.open(d));
  }

  async update(tenant: string, id: string, changes: SubscriptionChanges, now: Date): Promise<Subscription | null> {
    const update: UpdateFilter<SubscriptionDoc> = { $set: { ...this.sealSecrets(changes, { tenant, _id: id }), updatedAt: now } };
    // No headers are stored as none at all, as at Register.
    if (changes.headers?.length === 0) update.$unset = { headers: "" };
    const doc = await this.col.findOneAndUpdate({ _id: id, tenant }, update, { returnDocument: "after" });
    if (doc) await this.bump(tenant, doc.owner);
    return doc && this.open(doc);
  }

  /**
   * Only an active subscription: on MongoDB proper one process wins; on FerretDB (whose updates are not
   * atomic) two racing could both answer it, and the disabling is announced twice, never not at all.
   */
  async disable(tenant: string, id: string, reason: string, now: Date): Promise<Subscription | null> {
    const doc = await this.col.findOneAndUpdate(
      { _id: id, tenant, disabled: false },
      { $set: { disabled: true, disabledReason: reason, updatedAt: now } },
      { returnDocument: "after" },
    );
    if (doc) await this.bump(tenant, doc.owner);
    return doc && this.open(doc);
  }

  /**
   * The audience's subscriptions that are not disabled; event matching happens in the caller. One owner's
   * list (the tenant's own being owner "") is read through its walk index and cached. While this process's
   * view is current (subscription-view.ts: every change, in any process, is answered only once every live
   * process has seen it), a cached list serves without a read, and a list not cached is one read. Otherwise
   * one read of the scope's version by _id, and of the list when it moved; a list checked within
   * triggerFreshMs (HOOKWIRE_SUBSCRIPTION_CACHE_MS, 0 by default) serves without that read, so a change
   * made by another process is then seen within that time (one made through this process drops it at
   * once). Every owner at once (an announcement, asked for explicitly) reads the tenant's whole list.
   */
  async active(tenant: string, audience: Audience): Promise<Subscription[]> {
    if (audience === "all-owners") return (await this.col.find({ tenant, disabled: false }).toArray()).map((d) => this.open(d));
    const key = scopeKey(tenant, audience.owner);
    const viewed = this.viewed(key);
    if (viewed) return viewed.subs;
    const cached = this.cache.get(key);
    // The window is for when this process cannot confirm its view; while it can, changes are seen at once.
    if (cached && !this.view?.current && Date.now() - cached.checkedAt < this.triggerFreshMs) return cached.subs;
    return (await this.activeSet(tenant, audience.owner)).subs;
  }

  /**
   * One of an owner's active subscriptions; undefined when it is disabled, gone or another owner's. For
   * an attempt about to start: a list checked against its version within ACTIVE_FRESH_MS serves without
   * another read (a change that races an attempt cannot be ordered before it anyway), so a fan-out's
   * thousands of attempts do not each wait for a version read.
   */
  async activeById(tenant: string, owner: string, id: string): Promise<Subscription | undefined> {
    const key = scopeKey(tenant, owner);
    const viewed = this.viewed(key);
    if (viewed) return viewed.byId.get(id);
    const cached = this.cache.get(key);
    if (cached && Date.now() - cached.checkedAt < ACTIVE_FRESH_MS) return cached.byId.get(id);
    return (await this.activeSet(tenant, owner)).byId.get(id);
  }

  private async activeSet(tenant: string, owner: string): Promise<CachedScope> {
    const key = scopeKey(tenant, owner);
    const checkedAt = Date.now();
    // Taken before the reads: a change seen meanwhile leaves the entry of an older generation.
    const generation = this.view?.generation ?? 0;
    const current = this.view?.current ?? false;
    const changes = this.localChanges;
    // A current view needs no version: it tells of any change, so the entry is checked by its generation.
    const version = current ? -1 : await this.versions.add(key);
    const cached = this.cache.get(key);
    if (!current && cached && cached.version === version) {
      cached.checkedAt = checkedAt;
      cached.generation = generation;
      return this.touch(key, cached);
    }
    const subs = await this.load(tenant, owner, key, version, generation, changes);
    const entry: CachedScope = { version, checkedAt, generation, subs, byId: new Map(subs.map((s) => [s._id, s])) };
    // A list read across a change of this process's own may predate it: answered, not kept.
    if (this.localChanges === changes) this.keep(key, entry);
    return entry;
  }

  /** The scope's active list, read once for every caller that would read it alike (see `loading`). */
  private load(tenant: string, owner: string, key: string, version: number, generation: number, changes: number): Promise<Subscription[]> {
    const inFlight = this.loading.get(key);
    if (inFlight && inFlight.version === version && inFlight.generation === generation && inFlight.changes === changes) return inFlight.subs;
    // Equalities on the walk index's keys (tenant, owner): FerretDB reads only the owner's rows.
    const subs = this.col
      .find({ tenant, owner, disabled: false })
      .toArray()
      .then((docs) => docs.map((d) => this.open(d)));
    const read = { version, generation, changes, subs };
    this.loading.set(key, read);
    const done = () => {
      if (this.loading.get(key) === read) this.loading.delete(key);
    };
    subs.then(done, done);
    return subs;
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    if (!this.counted.has(tenant)) await this.count(tenant);
    // Whole (FerretDB implements no projection in findAndModify): its owner says which counter moves.
    const doc = await this.col.findOneAndDelete({ _id: id, tenant });
    if (!doc) return false;
    await this.bump(tenant, doc.owner ?? "", -1);
    return true;
  }
}
