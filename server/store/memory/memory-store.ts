// The ports in memory, for the engine's unit tests (on a fake clock) and the start-up warm-up's private rig
// (server/warmup.ts: its Triggers must not reach the real store), nothing else: it passes the same
// conformance suite as the store on MongoDB/FerretDB (test/store/store-conformance.test.ts). Several
// instances opened on one MemoryDatabase stand for several processes sharing a database.
import { randomBytes } from "node:crypto";
import {
  NO_HEALTH,
  systemClock,
  type Clock,
  type Delivery,
  type DeliveryLog,
  type DeliveryQuery,
  type DeliveryQueue,
  type EventType,
  type EventTypeFields,
  type EventTypes,
  type HeldDelivery,
  type Message,
  type Messages,
  type PortalSession,
  type PortalSessions,
  type Recoveries,
  type ReleasedHolds,
  type HealthChange,
  type HealthLog,
  type SendSecrets,
  type StorePorts,
  type Subscription,
  type Audience,
  type SubscriptionChanges,
  type Subscriptions,
  type SubscriptionHealth,
  type TakeWants,
} from "../../ports.js";
import { idFloor } from "../../domain/ids.js";
import { NO_THEME } from "../../domain/portal.js";
import { byIdOrder, inQuery } from "../common/log-query.js";
import { recentOf } from "../common/health.js";
import { RECENT_WINDOW_HOURS } from "../../domain/model.js";
import { MessageSweeper } from "../common/retention.js";

interface StoredDelivery {
  doc: Delivery;
  /** The process holding it, "" when none renews it. */
  holder: string;
  /** Epoch ms; a hold that ended (or 0) lets any process take the delivery once due. */
  holdUntil: number;
}

/** What the processes share. */
export class MemoryDatabase {
  readonly deliveries = new Map<string, StoredDelivery>();
  readonly messages = new Map<string, Message>();
  readonly subscriptions = new Map<string, Subscription>();
  readonly sendSecrets = new Map<string, { tenant: string; secret: string }>();
  /** Recovered delivery id → its redelivery's. */
  readonly recovered = new Map<string, { tenant: string; redelivery: string }>();
  /** `hours`: the recent deliveries' counts by hour (since the epoch) as the ring of the stored layouts holds them. */
  readonly health = new Map<string, { tenant: string; health: SubscriptionHealth; hours: Record<string, { h: number; ok: number; failed: number }> }>();
  /** Keyed by tenant, then name. */
  readonly eventTypes = new Map<string, Map<string, EventType>>();
  /** Keyed by the token's digest. */
  readonly portalSessions = new Map<string, PortalSession>();
}

const copy = <T>(v: T): T => structuredClone(v);

class MemoryQueue implements DeliveryQueue {
  readonly holder = `memory:${randomBytes(4).toString("hex")}`;
  readonly unwritten = 0;

  constructor(
    private readonly db: MemoryDatabase,
    private readonly holdMs: number,
    private readonly clock: Clock,
  ) {}

  private hold(doc: Delivery): HeldDelivery {
    this.db.deliveries.set(doc._id, { doc: copy(doc), holder: this.holder, holdUntil: this.clock.now() + this.holdMs });
    return { delivery: copy(doc) };
  }

  async accept(message: Message, deliveries: Delivery[]): Promise<{ held: HeldDelivery[] } | { earlier: Message | null }> {
    const earlier = this.db.messages.get(message._id);
    if (earlier) return { earlier: copy(earlier) };
    const held = deliveries.map((d) => this.hold(d));
    this.db.messages.set(message._id, copy(message));
    return { held };
  }

  async add(deliveries: Delivery[]): Promise<HeldDelivery[]> {
    return deliveries.map((d) => this.hold(d));
  }

  async takeDue(now: Date, limit: number, skip?: string[], wants?: TakeWants): Promise<HeldDelivery[]> {
    const taken: HeldDelivery[] = [];
    let met = 0;
    for (const s of this.db.deliveries.values()) {
      if (met >= limit) break;
      if (s.doc.status !== "pending" || s.doc.nextAttemptAt.getTime() > now.getTime() || s.holdUntil > now.getTime() || (skip?.includes(s.doc.subscriptionId) ?? false)) continue;
      // Like the other layouts: `limit` bounds the candidates met, and `wants` picks among them.
      met++;
      if (wants && !wants(s.doc.tenant, s.doc.subscriptionId)) continue;
      s.holder = this.holder;
      s.holdUntil = now.getTime() + this.holdMs;
      taken.push({ delivery: copy(s.doc) });
    }
    return taken;
  }

  async record(item: HeldDelivery, next: Delivery, keep: boolean): Promise<void> {
    const s = this.db.deliveries.get(item.delivery._id);
    if (!s) return; // dropped meanwhile (its subscription was deleted)
    s.doc = copy(next);
    s.holder = keep ? this.holder : "";
    s.holdUntil = keep ? next.nextAttemptAt.getTime() + this.holdMs : 0;
    if (next.status !== "pending") this.db.sendSecrets.delete(next._id);
  }

  async release(items: HeldDelivery[]): Promise<void> {
    for (const i of items) {
      const s = this.db.deliveries.get(i.delivery._id);
      if (s && s.holder === this.holder) s.holder = "";
    }
  }

  async drop(items: HeldDelivery[]): Promise<void> {
    for (const i of items) this.db.deliveries.delete(i.delivery._id);
  }

  async renew(): Promise<void> {
    for (const s of this.db.deliveries.values()) if (s.holder === this.holder && s.doc.status === "pending") s.holdUntil = this.clock.now() + this.holdMs;
  }

  async releaseAll(): Promise<void> {
    for (const s of this.db.deliveries.values()) {
      if (s.holder !== this.holder) continue;
      s.holder = "";
      s.holdUntil = 0;
    }
  }

  async releaseDeadHolders(dead: (holder: string) => boolean): Promise<ReleasedHolds> {
    const judged = new Map<string, boolean>();
    const isDead = (h: string) => {
      if (h === "" || h === this.holder) return false;
      if (!judged.has(h)) judged.set(h, dead(h));
      return judged.get(h)!;
    };
    let rows = 0;
    for (const s of this.db.deliveries.values()) {
      if (!isDead(s.holder)) continue;
      s.holder = "";
      s.holdUntil = 0;
      rows++;
    }
    const holders = [...judged].filter(([, d]) => d).map(([h]) => h).sort();
    return { holders, lots: 0, rows };
  }

  async dropForSubscription(tenant: string, subscriptionId: string): Promise<void> {
    for (const [id, s] of this.db.deliveries) {
      if (s.doc.tenant === tenant && s.doc.subscriptionId === subscriptionId && s.doc.status === "pending") this.db.deliveries.delete(id);
    }
  }

  async flush(): Promise<boolean> {
    return true;
  }
}

class MemoryLog implements DeliveryLog {
  constructor(private readonly db: MemoryDatabase) {}

  async get(tenant: string, id: string): Promise<Delivery | null> {
    const s = this.db.deliveries.get(id);
    return s && s.doc.tenant === tenant ? copy(s.doc) : null;
  }

  async list(q: DeliveryQuery): Promise<Delivery[]> {
    const found = [...this.db.deliveries.values()]
      .map((s) => s.doc)
      .filter(
        (d) =>
          d.tenant === q.tenant && (!q.status || d.status === q.status) && inQuery(q, d),
      )
      .sort(byIdOrder);
    if (q.newestFirst) found.reverse();
    return found.slice(0, q.limit).map(copy);
  }

  async countPending(cap: number): Promise<number> {
    let n = 0;
    for (const s of this.db.deliveries.values()) if (s.doc.status === "pending" && ++n >= cap) break;
    return n;
  }
}

class MemoryMessages implements Messages {
  constructor(private readonly db: MemoryDatabase) {}

  async byId(id: string): Promise<Message | null> {
    const m = this.db.messages.get(id);
    return m ? copy(m) : null;
  }

  async get(tenant: string, id: string): Promise<Message | null> {
    const m = this.db.messages.get(id);
    return m && m.tenant === tenant ? copy(m) : null;
  }

  async existing(ids: string[]): Promise<Set<string>> {
    return new Set(ids.filter((id) => this.db.messages.has(id)));
  }
}

class MemorySendSecrets implements SendSecrets {
  constructor(private readonly db: MemoryDatabase) {}

  async keep(tenant: string, deliveryId: string, secret: string): Promise<void> {
    this.db.sendSecrets.set(deliveryId, { tenant, secret });
  }

  async get(tenant: string, deliveryId: string): Promise<string | undefined> {
    const s = this.db.sendSecrets.get(deliveryId);
    return s && s.tenant === tenant ? s.secret : undefined;
  }

  async drop(deliveryIds: string[]): Promise<void> {
    for (const id of deliveryIds) this.db.sendSecrets.delete(id);
  }
}

class MemoryRecoveries implements Recoveries {
  constructor(private readonly db: MemoryDatabase) {}

  async mark(tenant: string, pairs: Array<{ original: string; redelivery: string }>): Promise<Set<string>> {
    const marked = new Set<string>();
    for (const p of pairs) {
      if (this.db.recovered.has(p.original)) continue;
      this.db.recovered.set(p.original, { tenant, redelivery: p.redelivery });
      marked.add(p.original);
    }
    return marked;
  }

  async link(tenant: string, original: string, redelivery: string): Promise<void> {
    this.db.recovered.set(original, { tenant, redelivery });
  }

  async redeliveries(tenant: string, originals: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of originals) {
      const m = this.db.recovered.get(id);
      if (m && m.tenant === tenant) out.set(id, m.redelivery);
    }
    return out;
  }

  async unmark(originals: string[]): Promise<void> {
    for (const id of originals) this.db.recovered.delete(id);
  }

  async forget(before: Date, limit: number): Promise<number> {
    const floor = idFloor("dlv", before.getTime());
    const old = [...this.db.recovered.keys()].filter((id) => id < floor).slice(0, limit);
    await this.unmark(old);
    return old.length;
  }
}

class MemorySubscriptions implements Subscriptions {
  constructor(private readonly db: MemoryDatabase) {}

  private mine(tenant: string, id: string): Subscription | undefined {
    const s = this.db.subscriptions.get(id);
    return s && s.tenant === tenant ? s : undefined;
  }

  async insert(sub: Subscription): Promise<void> {
    if (this.db.subscriptions.has(sub._id)) throw new Error(`duplicate subscription id ${sub._id}`);
    this.db.subscriptions.set(sub._id, copy(sub));
  }

  async get(tenant: string, id: string): Promise<Subscription | null> {
    const s = this.mine(tenant, id);
    return s ? copy(s) : null;
  }

  async list(tenant: string, afterId: string | undefined, limit: number, owner?: string, newestFirst = false): Promise<Subscription[]> {
    const past = (id: string) => afterId === undefined || (newestFirst ? id < afterId : id > afterId);
    const found = [...this.db.subscriptions.values()].filter((s) => s.tenant === tenant && (owner === undefined || s.owner === owner) && past(s._id)).sort(byIdOrder);
    if (newestFirst) found.reverse();
    return found.slice(0, limit).map(copy);
  }

  async update(tenant: string, id: string, changes: SubscriptionChanges, now: Date): Promise<Subscription | null> {
    const s = this.mine(tenant, id);
    if (!s) return null;
    const next = { ...s, ...copy(changes), updatedAt: now };
    this.db.subscriptions.set(id, next);
    return copy(next);
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    if (!this.mine(tenant, id)) return false;
    this.db.subscriptions.delete(id);
    return true;
  }

  async count(tenant: string, owner?: string): Promise<number> {
    let n = 0;
    for (const s of this.db.subscriptions.values()) if (s.tenant === tenant && (!owner || s.owner === owner)) n++;
    return n;
  }

  async active(tenant: string, audience: Audience): Promise<Subscription[]> {
    return [...this.db.subscriptions.values()]
      .filter((s) => s.tenant === tenant && !s.disabled && (audience === "all-owners" || s.owner === audience.owner))
      .map(copy);
  }

  async activeById(tenant: string, owner: string, id: string): Promise<Subscription | undefined> {
    const s = this.mine(tenant, id);
    return s && !s.disabled && s.owner === owner ? copy(s) : undefined;
  }

  async disable(tenant: string, id: string, reason: string, now: Date): Promise<Subscription | null> {
    const s = this.mine(tenant, id);
    if (!s || s.disabled) return null;
    return this.update(tenant, id, { disabled: true, disabledReason: reason }, now);
  }
}

/** Without undefined fields, as the other stores give documents back. */
const defined = <T extends object>(v: T): T => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as T;

class MemoryEventTypes implements EventTypes {
  constructor(private readonly db: MemoryDatabase) {}

  private of(tenant: string): Map<string, EventType> {
    let m = this.db.eventTypes.get(tenant);
    if (!m) this.db.eventTypes.set(tenant, (m = new Map()));
    return m;
  }

  async insert(doc: EventType): Promise<boolean> {
    const mine = this.of(doc.tenant);
    if (mine.has(doc.name)) return false;
    mine.set(doc.name, copy(defined(doc)));
    return true;
  }

  async get(tenant: string, name: string): Promise<EventType | null> {
    const doc = this.db.eventTypes.get(tenant)?.get(name);
    return doc ? copy(doc) : null;
  }

  async list(tenant: string, afterName: string | undefined, limit: number): Promise<EventType[]> {
    return [...(this.db.eventTypes.get(tenant)?.values() ?? [])]
      .filter((d) => afterName === undefined || d.name > afterName)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .slice(0, limit)
      .map(copy);
  }

  async update(tenant: string, name: string, fields: EventTypeFields, now: Date): Promise<EventType | null> {
    const doc = this.db.eventTypes.get(tenant)?.get(name);
    if (!doc) return null;
    const next = defined({ tenant, name, createdAt: doc.createdAt, ...copy(fields), updatedAt: now });
    this.of(tenant).set(name, next);
    return copy(next);
  }

  async delete(tenant: string, name: string): Promise<boolean> {
    return this.db.eventTypes.get(tenant)?.delete(name) ?? false;
  }

  async count(tenant: string): Promise<number> {
    return this.db.eventTypes.get(tenant)?.size ?? 0;
  }

  async schemaDigest(tenant: string, name: string): Promise<string | undefined> {
    return this.db.eventTypes.get(tenant)?.get(name)?.schemaDigest;
  }
}

class MemoryPortalSessions implements PortalSessions {
  constructor(private readonly db: MemoryDatabase) {}

  async create(session: PortalSession): Promise<void> {
    if (this.db.portalSessions.has(session.digest)) throw new Error("duplicate portal session");
    this.db.portalSessions.set(session.digest, copy({ ...session, theme: session.theme ?? { ...NO_THEME } }));
  }

  async byDigest(digest: string, withTheme = false): Promise<PortalSession | null> {
    const s = this.db.portalSessions.get(digest);
    if (!s) return null;
    const { theme, ...rest } = copy(s);
    return withTheme ? { ...rest, theme: theme ?? { ...NO_THEME } } : rest;
  }

  async revokeOwner(tenant: string, owner: string, now: Date): Promise<number> {
    let revoked = 0;
    for (const [digest, s] of this.db.portalSessions) {
      if (s.tenant !== tenant || s.owner !== owner) continue;
      if (s.expiresAt.getTime() > now.getTime()) revoked++;
      this.db.portalSessions.delete(digest);
    }
    return revoked;
  }

  async removeExpired(now: Date, limit: number): Promise<number> {
    const old = [...this.db.portalSessions.values()].filter((s) => s.expiresAt.getTime() <= now.getTime()).slice(0, limit);
    for (const s of old) this.db.portalSessions.delete(s.digest);
    return old.length;
  }
}

const later = (a: Date | undefined, b: Date | undefined) => (a && b ? (a > b ? a : b) : (a ?? b));

/** A health as read: its recent counts from the ring, as now. */
function withRecent(h: SubscriptionHealth, hours: Record<string, { h: number; ok: number; failed: number }>): SubscriptionHealth {
  const recent = recentOf(hours, Date.now());
  return { ...copy(h), recentDeliveriesSucceeded: recent.ok, recentDeliveriesFailed: recent.failed };
}

class MemoryHealth implements HealthLog {
  constructor(private readonly db: MemoryDatabase) {}

  async add(changes: HealthChange[]): Promise<Map<string, SubscriptionHealth>> {
    const failing = new Map<string, SubscriptionHealth>();
    for (const c of changes) {
      const stored = this.db.health.get(c.subscriptionId);
      const h: SubscriptionHealth = stored ? stored.health : { ...NO_HEALTH };
      h.attemptsSucceeded += c.succeeded;
      h.attemptsFailed += c.failed;
      h.lastSuccessAt = later(h.lastSuccessAt, c.lastSuccessAt);
      h.lastFailureAt = later(h.lastFailureAt, c.lastFailureAt);
      if (c.failed > 0) h.lastError = c.lastError;
      if (c.cleared) {
        h.consecutiveFailures = c.streakFailures;
        h.failingSince = c.streakSince;
      } else {
        h.consecutiveFailures += c.streakFailures;
        if (c.streakSince && (!h.failingSince || c.streakSince < h.failingSince)) h.failingSince = c.streakSince;
      }
      const hours = stored?.hours ?? {};
      if (c.hour !== undefined && (c.deliveriesSucceeded || c.deliveriesFailed)) {
        const key = String(c.hour % RECENT_WINDOW_HOURS);
        const slot = hours[key]?.h === c.hour ? hours[key] : (hours[key] = { h: c.hour, ok: 0, failed: 0 });
        slot.ok += c.deliveriesSucceeded ?? 0;
        slot.failed += c.deliveriesFailed ?? 0;
      }
      this.db.health.set(c.subscriptionId, { tenant: stored?.tenant ?? c.tenant, health: h, hours });
      if (c.streakFailures > 0 && (stored?.tenant ?? c.tenant) === c.tenant) failing.set(c.subscriptionId, withRecent(h, hours));
    }
    return failing;
  }

  async get(tenant: string, ids: string[]): Promise<Map<string, SubscriptionHealth>> {
    const out = new Map<string, SubscriptionHealth>();
    for (const id of ids) {
      const s = this.db.health.get(id);
      if (s && s.tenant === tenant) out.set(id, withRecent(s.health, s.hours));
    }
    return out;
  }

  async restartStreak(tenant: string, id: string): Promise<void> {
    const s = this.db.health.get(id);
    if (!s || s.tenant !== tenant) return;
    s.health.consecutiveFailures = 0;
    delete s.health.failingSince;
  }

  async drop(tenant: string, id: string): Promise<void> {
    if (this.db.health.get(id)?.tenant === tenant) this.db.health.delete(id);
  }
}

/** Messages in the order they were stored (a Map keeps insertion order), as the FerretDB layout reads them. */
function memoryRetention(db: MemoryDatabase): MessageSweeper {
  return new MessageSweeper({
    async oldest(_before, skip, limit) {
      return [...db.messages.values()].slice(skip, skip + limit).map((m) => ({ _id: m._id, tenant: m.tenant, createdAt: m.createdAt }));
    },
    async pending(candidates) {
      const ids = new Set(candidates.map((c) => c._id));
      const pending = new Set<string>();
      for (const s of db.deliveries.values()) if (s.doc.status === "pending" && ids.has(s.doc.messageId)) pending.add(s.doc.messageId);
      return pending;
    },
    async remove(candidates) {
      const ids = new Set(candidates.map((c) => c._id));
      for (const [id, s] of db.deliveries) if (ids.has(s.doc.messageId)) db.deliveries.delete(id);
      for (const id of ids) db.messages.delete(id);
    },
  });
}

/** The ports on a shared in-memory database, as one process opens them. */
export function openMemoryStore(db: MemoryDatabase, opts: { holdMs: number; clock?: Clock }): StorePorts {
  return {
    queue: new MemoryQueue(db, opts.holdMs, opts.clock ?? systemClock),
    log: new MemoryLog(db),
    messages: new MemoryMessages(db),
    sendSecrets: new MemorySendSecrets(db),
    subscriptions: new MemorySubscriptions(db),
    recoveries: new MemoryRecoveries(db),
    health: new MemoryHealth(db),
    retention: memoryRetention(db),
    eventTypes: new MemoryEventTypes(db),
    portalSessions: new MemoryPortalSessions(db),
    close: async () => undefined,
  };
}
