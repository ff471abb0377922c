// What the engine and the use cases see of the store: small interfaces named for what they do. How
// the store lays its documents out (rows, batches, lots, hold fields) stays inside server/store/.
import type { Delivery, DeliveryState, Message, Subscription, SubscriptionChanges, SubscriptionHealth } from "./domain/model.js";
import type { EventType, EventTypeFields } from "./domain/event-types.js";
export { NO_HEALTH, SecretUnreadableError } from "./domain/model.js";
export type { EventType, EventTypeFields } from "./domain/event-types.js";
import type { PortalSession } from "./domain/portal.js";
export type { PortalSession, PortalTheme } from "./domain/portal.js";
export type { Attempt, Delivery, DeliveryState, Message, PreviousSecret, Subscription, SubscriptionChanges, SubscriptionHealth, SubscriptionView } from "./domain/model.js";

/**
 * A delivery this process has taken on: it alone attempts it until it records a final state or
 * hands it back (or dies, and its hold runs out). The queue keeps its own bookkeeping beside it.
 */
export interface HeldDelivery {
  readonly delivery: Delivery;
}

/** The store refused a write for a reason of its own: its disk is full, or another transient refusal. */
export type StoreWriteFault = "disk_full" | "cannot_write";

/** A call that failed for the store's sake, not the caller's: it cannot be reached, or it refused a write. */
export type StoreFault = "unreachable" | StoreWriteFault;

/** Told of every failed call: which store fault it was, if any (a refused write also turns health NOT_SERVING). */
export interface StoreFaults {
  failed(err: unknown): StoreFault | undefined;
}

/**
 * Whether writes work is one fact for every process on a database: a worker whose store refused a write tells
 * the others (server/cluster/), which then count writes as broken too until their own probe write succeeds.
 */
export interface WriteFaultRelay {
  /** Hears each time this process's own failed write turned writes off. */
  onRefused(listener: (fault: StoreWriteFault) => void): void;
  /** Another process's write was refused for this fault. */
  heard(fault: StoreWriteFault): void;
}

/**
 * The delivery engine as the use cases and the API see it: deliveries just stored start, and whoever waits
 * hears of their outcomes once they are stored.
 */
/** What endpoints' outcomes mean beyond their deliveries: decided by the use cases (endpoints.ts), heard by the engine. */
export interface EndpointEvents {
  /** An endpoint answered 410 Gone (awaited before the delivery's outcome is recorded). */
  gone(doc: Delivery): Promise<void>;
  /** A subscription's health was stored and leaves it failing (judged against the disabling rule). */
  failing(tenant: string, subscriptionId: string, health: SubscriptionHealth): Promise<void>;
  /** A delivery that went to its subscription's endpoint failed for good (retries spent, or 410 Gone). */
  exhausted(doc: Delivery): Promise<void>;
}

export interface Dispatch {
  /** Deliveries just stored, held by this process, start now; `body` (their message's) saves a read. */
  submit(items: HeldDelivery[], body?: string): void;
  /**
   * Resolves with the delivery once it is delivered or failed and that is stored, whichever process attempts it
   * (one that took it over after a park or a kill too).
   */
  finished(tenant: string, id: string, signal?: AbortSignal): Promise<Delivery>;
  /** Calls the listener with each delivery state once it is stored; answers how to stop. */
  watch(listener: (doc: Delivery) => void): () => void;
}

/** Whether a take wants a due row of this tenant's subscription (empty for a Send's delivery). */
export type TakeWants = (tenant: string, subscriptionId: string) => boolean;

/** The durable delivery queue, as one process sees it. */
export interface DeliveryQueue {
  /**
   * Stores a message's deliveries and then the message, the commit point: answers the deliveries,
   * held by this process, or, when a message with this id exists (a repeated idempotency key), that
   * message (null while its own call is still storing it), and nothing new is kept.
   */
  accept(message: Message, deliveries: Delivery[]): Promise<{ held: HeldDelivery[] } | { earlier: Message | null }>;
  /** Stores new deliveries of a stored message (Redeliver), held by this process. */
  add(deliveries: Delivery[]): Promise<HeldDelivery[]>;
  /**
   * Takes on about `limit` due deliveries that no live process holds, leaving those of the subscriptions
   * in `skip` (whose shares of this process are full) for later, and those `wants` declines: it is asked
   * once per candidate row, in the order the take meets them, and keeps its own count, so a take brings no
   * more of one endpoint than the taker has room for (rows beyond it stay in the store, untouched, for any
   * process). A taken-over lot's deliveries may come regardless of `skip` and `wants`.
   */
  takeDue(now: Date, limit: number, skip?: string[], wants?: TakeWants): Promise<HeldDelivery[]>;
  /**
   * Stores a delivery's new state, resolving once it is stored (a failed write is tried again for as
   * long as the process lives). A pending state with `keep` stays held: this process attempts it
   * again itself; without, any process may take it once it is due.
   */
  record(item: HeldDelivery, next: Delivery, keep: boolean): Promise<void>;
  /** Gives these up unattempted: no longer renewed, any process may take them once their hold runs out. */
  release(items: HeldDelivery[]): Promise<void>;
  /** Removes deliveries that can never be sent (their message was never stored). */
  drop(items: HeldDelivery[]): Promise<void>;
  /** Extends the hold on everything this process holds. */
  renew(): Promise<void>;
  /** Hands everything this process holds back, for any process to take at once. */
  releaseAll(): Promise<void>;
  /**
   * Hands back at once, for any process to take now instead of when their holds run out, everything held
   * by the holders `dead` judges dead (never this process's own). The holders looked at are, in the FerretDB
   * layout, those of held lots and those registered in hookwire_meta before they first held anything (not
   * the queue's, which may be large); of held deliveries elsewhere. Answers what was released.
   */
  releaseDeadHolders(dead: (holder: string) => boolean): Promise<ReleasedHolds>;
  /** Removes a deleted subscription's unfinished deliveries. */
  dropForSubscription(tenant: string, subscriptionId: string): Promise<void>;
  /** Waits until recorded states are stored or the deadline passes; answers whether all were. */
  flush(deadline: number): Promise<boolean>;
  /** Recorded states not stored yet. */
  readonly unwritten: number;
  /** Names this process's hold in the store (logged at start). */
  readonly holder: string;
}

/** What releaseDeadHolders handed back: the holders judged dead, and how many of their lots (FerretDB layout) and rows. */
export interface ReleasedHolds {
  holders: string[];
  lots: number;
  rows: number;
}

/** Time for the engine: the system's, or a fake one in unit tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface DeliveryQuery {
  tenant: string;
  messageId?: string | undefined;
  subscriptionId?: string | undefined;
  /** Only deliveries to this owner's subscriptions (never empty: the tenant's own are not asked for alone). */
  owner?: string | undefined;
  status?: DeliveryState | undefined;
  /** Only ids after this one (exclusive). */
  afterId?: string | undefined;
  /** Only ids before this one (exclusive): with afterId, a range of creation times, since ids start with theirs. */
  beforeId?: string | undefined;
  /** The first `limit` from the newest (the highest id) down, rather than from the oldest up. */
  newestFirst?: boolean | undefined;
  limit: number;
}

/** Every delivery, pending or finished, for the log RPCs. */
export interface DeliveryLog {
  get(tenant: string, id: string): Promise<Delivery | null>;
  /** In id (creation) order, or its reverse when the query asks for the newest first. */
  list(query: DeliveryQuery): Promise<Delivery[]>;
  /**
   * How many deliveries are pending across every tenant, counting at most `cap` (answers `cap` when there
   * are more): read from the store, so every process sharing it answers the same figure. Costs what it
   * counts, never what the finished deliveries hold.
   */
  countPending(cap: number): Promise<number>;
}

export interface Messages {
  /** Regardless of tenant: for the engine, which holds only ids it stored itself. */
  byId(id: string): Promise<Message | null>;
  get(tenant: string, id: string): Promise<Message | null>;
  /** Which of these messages are stored, without their bodies. */
  existing(ids: string[]): Promise<Set<string>>;
}

/**
 * Which failed deliveries a recovery has redelivered, so that recovering the same range again (a caller
 * that lost an answer and calls again) redelivers each at most once.
 */
export interface Recoveries {
  /**
   * Marks each original as redelivered by its paired new delivery, unless it was marked before (by an
   * earlier call or one running at the same time): answers the originals marked by this call, which
   * alone get their redelivery made.
   */
  mark(tenant: string, pairs: Array<{ original: string; redelivery: string }>): Promise<Set<string>>;
  /** Takes marks back (their redeliveries could not be stored), so a later recovery makes them. */
  unmark(originals: string[]): Promise<void>;
  /** Marks `original` as redelivered by `redelivery` whether or not it was before (Redeliver: the newest wins). */
  link(tenant: string, original: string, redelivery: string): Promise<void>;
  /** The redelivery each of these deliveries of the tenant is marked with, for those marked. */
  redeliveries(tenant: string, originals: string[]): Promise<Map<string, string>>;
  /**
   * Retention's part: removes up to `limit` marks of deliveries created before `before` (their log
   * rows go with their messages); answers how many went.
   */
  forget(before: Date, limit: number): Promise<number>;
}

/** A Send's secret, kept (sealed) only until its delivery ends. */
export interface SendSecrets {
  keep(tenant: string, deliveryId: string, secret: string): Promise<void>;
  get(tenant: string, deliveryId: string): Promise<string | undefined>;
  drop(deliveryIds: string[]): Promise<void>;
}

/** Subscriptions with their secrets in plain text (the store keeps them sealed). */
/**
 * Which subscriptions an event is for: one owner's (the tenant's own when owner is ""), or, asked for
 * explicitly, every subscription of the tenant whatever its owner.
 */
export type Audience = { owner: string } | "all-owners";

export interface Subscriptions {
  insert(sub: Subscription): Promise<void>;
  get(tenant: string, id: string): Promise<Subscription | null>;
  /**
   * Up to `limit` of the tenant's subscriptions with ids after `afterId`, in id (creation) order; only
   * `owner`'s when it is given (an index walk, whatever the tenant holds). With `newestFirst`, from the
   * newest down instead, and `afterId` is passed going down (only ids below it).
   */
  list(tenant: string, afterId: string | undefined, limit: number, owner?: string, newestFirst?: boolean): Promise<Subscription[]>;
  update(tenant: string, id: string, changes: SubscriptionChanges, now: Date): Promise<Subscription | null>;
  delete(tenant: string, id: string): Promise<boolean>;
  /**
   * How many subscriptions the tenant has, or with `owner` that owner has, disabled ones included, for
   * the quotas: cheap whatever the number (the stores keep counters beside the subscriptions rather than
   * count rows).
   */
  count(tenant: string, owner?: string): Promise<number>;
  /**
   * The subscriptions an event for `audience` may reach that are not disabled, as of now (event matching
   * is the caller's). One owner's costs what that owner holds, not what the tenant holds.
   */
  active(tenant: string, audience: Audience): Promise<Subscription[]>;
  /**
   * One of an owner's active subscriptions, for an attempt about to start; undefined when it is disabled,
   * gone, or not that owner's. May be up to a quarter of a second behind a change made elsewhere.
   */
  activeById(tenant: string, owner: string, id: string): Promise<Subscription | undefined>;
  /**
   * Disables an active subscription, saying why; answers it as disabled, or null when it was already
   * disabled or is gone (so whoever disabled it announces it, once on MongoDB proper).
   */
  disable(tenant: string, id: string, reason: string, now: Date): Promise<Subscription | null>;
}

/**
 * The outcomes of one subscription's attempts gathered since its last write, in the order they came.
 * Counts add up across processes; a success in it restarts the failing streak from what followed it.
 */
export interface HealthChange {
  tenant: string;
  subscriptionId: string;
  succeeded: number;
  failed: number;
  lastSuccessAt?: Date | undefined;
  lastFailureAt?: Date | undefined;
  lastError: string;
  /** A success came in: the stored streak is replaced by the failures after the last one. */
  cleared: boolean;
  /** Failures after the last success (all of them when none came). */
  streakFailures: number;
  /** The first of those failures. */
  streakSince?: Date | undefined;
  /** Deliveries that finished (their last attempt sent), by outcome: the recent counts' additions. */
  deliveriesSucceeded?: number | undefined;
  deliveriesFailed?: number | undefined;
  /** The hour (since the epoch) the delivery counts fall in: the recorder's clock when it writes them. */
  hour?: number | undefined;
}

/** Per-subscription health, written in gathered changes (never once per attempt). */
export interface HealthLog {
  /**
   * Adds the changes; answers, for each subscription they leave failing, its health as stored after
   * the change (what the disabling rule is judged on), keyed by subscription id.
   */
  add(changes: HealthChange[]): Promise<Map<string, SubscriptionHealth>>;
  /** The health of these subscriptions of the tenant; those with none recorded are absent. */
  get(tenant: string, ids: string[]): Promise<Map<string, SubscriptionHealth>>;
  /** Starts the failing streak anew (re-enabling): counts and last times stay. */
  restartStreak(tenant: string, id: string): Promise<void>;
  /** Forgets a deleted subscription's health. */
  drop(tenant: string, id: string): Promise<void>;
}

/**
 * The tenants' event type catalogs (server/domain/event-types.ts), keyed by tenant and name. The catalog
 * is optional: most Triggers name an event without an entry, and schemaDigest answers those without a
 * store read.
 */
export interface EventTypes {
  /** Stores a new event type; false (and nothing stored) when the tenant has one of that name. */
  insert(doc: EventType): Promise<boolean>;
  get(tenant: string, name: string): Promise<EventType | null>;
  /** Up to `limit` of the tenant's event types with names after `afterName`, in name order. */
  list(tenant: string, afterName: string | undefined, limit: number): Promise<EventType[]>;
  /** Sets the changeable fields to `fields` (an absent one is removed); null when the tenant has none of that name. */
  update(tenant: string, name: string, fields: EventTypeFields, now: Date): Promise<EventType | null>;
  delete(tenant: string, name: string): Promise<boolean>;
  /** How many event types the tenant has, for its quota: one read, whatever the number. */
  count(tenant: string): Promise<number>;
  /**
   * For every Trigger: the schemaDigest of the tenant's event type `name`, undefined when there is no such
   * entry or it has no schema. Sees every change answered before the call (in any process). Served from
   * memory while nothing in the tenant's catalog changed, so a Trigger of an event without an entry costs
   * no read.
   */
  schemaDigest(tenant: string, name: string): Promise<string | undefined>;
}

/**
 * Customer portal sessions (domain/portal.ts), keyed by their token's digest. Read once per call a portal
 * makes, by _id; so a revocation is seen by the next call on every process.
 */
export interface PortalSessions {
  /** Stores a new session (its theme included). */
  create(session: PortalSession): Promise<void>;
  /** The session as stored, expired or not; with its theme only when asked (every portal call reads one without). */
  byDigest(digest: string, withTheme?: boolean): Promise<PortalSession | null>;
  /** Removes every session of the owner (expired ones too); answers how many of them had not expired at `now`. */
  revokeOwner(tenant: string, owner: string, now: Date): Promise<number>;
  /** Removes up to `limit` sessions that expired at or before `now`; answers how many went. */
  removeExpired(now: Date, limit: number): Promise<number>;
}

/** What one call of Retention.sweep removed. */
export interface SweepResult {
  /** Messages removed, each with every delivery of it. */
  messages: number;
  /** The call stopped at its limit: more may be due now. */
  more: boolean;
}

/**
 * Removes finished messages: a message created before the cutoff none of whose deliveries is still
 * pending (waiting for a first attempt or a retry, however old) goes, with every delivery of it
 * (their attempt log). Each call does work in proportion to what it removes (plus the old messages it
 * keeps because they are still pending), not to what is stored, and several processes may sweep the
 * same database at once.
 */
export interface Retention {
  sweep(before: Date, limit: number): Promise<SweepResult>;
}

/** Everything the engine and the use cases need of a store. */
export interface StorePorts {
  subscriptions: Subscriptions;
  messages: Messages;
  queue: DeliveryQueue;
  log: DeliveryLog;
  sendSecrets: SendSecrets;
  recoveries: Recoveries;
  health: HealthLog;
  retention: Retention;
  eventTypes: EventTypes;
  portalSessions: PortalSessions;
  close(): Promise<void>;
}
