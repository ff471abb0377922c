// Per-tenant quotas: the one place that decides whether a tenant may have one more subscription,
// pattern, event type, watch stream or Trigger. Over a quota is RESOURCE_EXHAUSTED with a message that starts with
// the quota's name and names the setting that raises it, so an operator can tell which limit a caller hit.
import { DomainError } from "../domain/errors.js";
import { TokenBucket } from "../domain/token-bucket.js";

export interface QuotaLimits {
  /** Subscriptions one tenant may keep, disabled ones included (HOOKWIRE_MAX_SUBSCRIPTIONS). */
  maxSubscriptions: number;
  /** Subscriptions one owner (a platform's customer) may keep in its tenant (HOOKWIRE_MAX_SUBSCRIPTIONS_PER_OWNER). */
  maxSubscriptionsPerOwner: number;
  /** Event patterns one subscription may list (HOOKWIRE_MAX_EVENTS_PER_SUBSCRIPTION). */
  maxEventsPerSubscription: number;
  /** WatchDeliveries streams one tenant may hold open on one process (HOOKWIRE_MAX_WATCHES_PER_TENANT). */
  maxWatchesPerTenant: number;
  /** Event types one tenant's catalog may hold, built-ins not counted (HOOKWIRE_MAX_EVENT_TYPES). */
  maxEventTypes: number;
  /** Triggers and Sends a second per tenant on one process; 0: unlimited (HOOKWIRE_TRIGGER_RATE). */
  triggerRate: number;
  /** How many may come at once after a quiet spell (HOOKWIRE_TRIGGER_BURST). */
  triggerBurst: number;
}

/**
 * Generous by default: they stop runaway or hostile use, not ordinary platforms. 250,000 subscriptions
 * leaves room for a platform with 100,000 customers of one or two endpoints each in one tenant (the
 * count is one counter read per Register, so a large quota costs nothing); 100 subscriptions per owner is
 * far more endpoints than a customer registers (Svix's portal users keep a handful) while bounding what
 * one customer's Trigger fans out to; 64 patterns is the cap requests always had; 10,000 event types is
 * more than any platform's catalog (they hold tens to a few hundred) while bounding what each process
 * keeps per tenant for Triggers (the names with a schema); 32 watch streams is more than any console or
 * tail needs; 10,000 Triggers a
 * second is over twice what one process accepts in the peer bench (about 4,000 a second from one tenant).
 */
export const QUOTA_DEFAULTS: QuotaLimits = Object.freeze({
  maxSubscriptions: 250_000,
  maxSubscriptionsPerOwner: 100,
  maxEventsPerSubscription: 64,
  maxEventTypes: 10_000,
  maxWatchesPerTenant: 32,
  triggerRate: 10_000,
  triggerBurst: 10_000,
});

const exhausted = (message: string) => new DomainError("exhausted", message);

/**
 * The counts kept in memory (watches, trigger buckets) are per process: with several processes on one
 * database each allows its own. Keyed by tenant, of which there are as many as configured API keys, so
 * the maps stay small.
 */
export class Quotas {
  private readonly watches = new Map<string, number>();
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    readonly limits: QuotaLimits = QUOTA_DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Before a Register: `current` is how many subscriptions the tenant has. Concurrent Registers each
   * check before any of them is stored, so a burst of them can overshoot by as many as run at once.
   */
  checkSubscriptions(tenant: string, current: number): void {
    const max = this.limits.maxSubscriptions;
    if (current >= max) {
      throw exhausted(
        `subscriptions: tenant "${tenant}" has ${current} subscriptions and its quota is ${max} (HOOKWIRE_MAX_SUBSCRIPTIONS); delete one before registering another`,
      );
    }
  }

  /** The same for one owner's subscriptions, `current` being how many that owner has. */
  checkOwnerSubscriptions(owner: string, current: number): void {
    const max = this.limits.maxSubscriptionsPerOwner;
    if (current >= max) {
      throw exhausted(
        `subscriptions_per_owner: owner ${JSON.stringify(owner)} has ${current} subscriptions and its quota is ${max} (HOOKWIRE_MAX_SUBSCRIPTIONS_PER_OWNER); delete one before registering another`,
      );
    }
  }

  /** Before a CreateEventType: `current` is how many the tenant's catalog holds. Concurrent creates can overshoot as Registers can. */
  checkEventTypes(tenant: string, current: number): void {
    const max = this.limits.maxEventTypes;
    if (current >= max) {
      throw exhausted(`event_types: tenant "${tenant}" has ${current} event types and its quota is ${max} (HOOKWIRE_MAX_EVENT_TYPES); delete one before creating another`);
    }
  }

  /** Counted as listed, before duplicates are merged, so the request's size is bounded too. */
  checkEventPatterns(count: number, field = "events"): void {
    const max = this.limits.maxEventsPerSubscription;
    if (count > max) {
      throw exhausted(`${field}: lists ${count} event patterns, over the quota of ${max} per subscription (HOOKWIRE_MAX_EVENTS_PER_SUBSCRIPTION)`);
    }
  }

  /** Takes one of the tenant's watch slots for a stream; the answer gives it back (once, however often called). */
  openWatch(tenant: string): () => void {
    const open = this.watches.get(tenant) ?? 0;
    const max = this.limits.maxWatchesPerTenant;
    if (open >= max) {
      throw exhausted(`watches: tenant "${tenant}" has ${open} WatchDeliveries streams open and its quota is ${max} (HOOKWIRE_MAX_WATCHES_PER_TENANT); close one first`);
    }
    this.watches.set(tenant, open + 1);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      const left = (this.watches.get(tenant) ?? 1) - 1;
      if (left <= 0) this.watches.delete(tenant);
      else this.watches.set(tenant, left);
    };
  }

  /** One Trigger or Send of the tenant, refused (without being counted) while its bucket is empty. */
  takeTrigger(tenant: string): void {
    const { triggerRate: rate, triggerBurst: burst } = this.limits;
    if (rate === 0) return;
    let bucket = this.buckets.get(tenant);
    if (!bucket) this.buckets.set(tenant, (bucket = new TokenBucket(rate, burst, this.now)));
    const waitMs = bucket.take();
    if (waitMs > 0) {
      throw exhausted(
        `trigger_rate: tenant "${tenant}" is over its quota of ${rate} Triggers and Sends a second, ${burst} at once (HOOKWIRE_TRIGGER_RATE, HOOKWIRE_TRIGGER_BURST); retry in ${waitMs} ms`,
      );
    }
  }
}
