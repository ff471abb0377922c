// What each endpoint and each tenant may hold in this process's memory (waiting for its time or a
// slot, or in flight). A delivery that does not fit is parked: left in the store, held by nobody, and
// takes leave the work of full endpoints there, so an endpoint that never answers fills only its own
// share and nothing it holds keeps another endpoint's or tenant's delivery waiting for room (one shared
// budget did: one dead endpoint stopped every delivery on the server).
//
// Within a tenant the rule is max-min fair: while the tenant holds less than its share, any endpoint
// may hold up to maxHeldPerEndpoint; once it is full, an endpoint holding less than an equal part of
// the tenant's share still gets room, made by parking a delivery the tenant's largest endpoint holds
// and has not started. So a platform whose customers' endpoints are down, however many, still starts
// a healthy customer's delivery at once: the dead ones shrink to equal parts, never the live one.

export interface ShareLimits {
  /** Most deliveries of one endpoint (a subscription; a tenant's Sends to one origin) held at once. */
  maxHeldPerEndpoint: number;
  /** Most deliveries of one tenant held at once. */
  maxHeldPerTenant: number;
}

/** A held delivery as the shares see it. */
export interface Shared {
  readonly tenant: string;
  /** Its endpoint within its tenant (the scheduler's line). */
  readonly endpoint: string;
  /** Its subscription; empty for a Send's delivery. */
  readonly subscriptionId: string;
  /** Its attempt has started: it cannot be parked. */
  running: boolean;
}

interface TenantShare<T> {
  held: number;
  endpoints: Map<string, Set<T>>;
}

export type Admission<T> = { fits: false } | { fits: true; evict: T | undefined };

export class Shares<T extends Shared> {
  private readonly tenants = new Map<string, TenantShare<T>>();
  /**
   * How close to full a share is left out of takes. A take brings up to takeAtOnce deliveries of any
   * endpoint not left out, and what does not fit is parked again (a write each): an endpoint is left out
   * somewhat before it is full, rather than taken and parked one freed place at a time.
   */
  private readonly endpointMargin: number;
  private readonly tenantMargin: number;

  constructor(
    private readonly limits: ShareLimits,
    takeAtOnce: number,
  ) {
    this.endpointMargin = Math.min(takeAtOnce, Math.floor(limits.maxHeldPerEndpoint / 4));
    this.tenantMargin = Math.min(takeAtOnce, Math.floor(limits.maxHeldPerTenant / 4));
  }

  /** Whether a delivery of this endpoint fits, and which held delivery must be parked first to make room. */
  admit(tenant: string, endpoint: string): Admission<T> {
    const share = this.tenants.get(tenant);
    const mine = share?.endpoints.get(endpoint)?.size ?? 0;
    const room = this.room(mine, share?.held ?? 0, (share?.endpoints.size ?? 0) + (mine === 0 ? 1 : 0));
    if (room !== "evict") return room === "fits" ? { fits: true, evict: undefined } : { fits: false };
    const evict = this.evictable(share!, mine);
    return evict ? { fits: true, evict } : { fits: false };
  }

  add(item: T): void {
    let share = this.tenants.get(item.tenant);
    if (!share) {
      share = { held: 0, endpoints: new Map() };
      this.tenants.set(item.tenant, share);
    }
    let set = share.endpoints.get(item.endpoint);
    if (!set) {
      set = new Set();
      share.endpoints.set(item.endpoint, set);
    }
    set.add(item);
    share.held++;
  }

  remove(item: T): void {
    const share = this.tenants.get(item.tenant);
    const set = share?.endpoints.get(item.endpoint);
    if (!share || !set?.delete(item)) return;
    share.held--;
    if (set.size === 0) share.endpoints.delete(item.endpoint);
    if (share.held === 0) this.tenants.delete(item.tenant);
  }

  /** The subscriptions whose work is to stay in the store for now: at (or near) their endpoint's limit, or their equal part of a full tenant. */
  skip(): string[] {
    const subscriptions: string[] = [];
    for (const share of this.tenants.values()) {
      const full = share.held > this.limits.maxHeldPerTenant - this.tenantMargin;
      const part = full ? this.equalPart(share.endpoints.size) : Infinity;
      for (const set of share.endpoints.values()) {
        if (set.size <= this.limits.maxHeldPerEndpoint - this.endpointMargin && set.size < part) continue;
        const first = set.values().next().value;
        if (first?.subscriptionId) subscriptions.push(first.subscriptionId);
      }
    }
    return subscriptions;
  }

  /**
   * For one take: whether a due row of this endpoint is wanted, counting what the take has already picked.
   * It is, while its endpoint (with the rows picked) is under its limit and its tenant under its share, or,
   * the tenant's share being full, under an equal part of it (room then made by parking, as admit does).
   * So a take brings no more of one endpoint than fits, and the rest stays in the store for any process to
   * take, instead of being taken and parked again one write each.
   */
  picker(): (tenant: string, endpoint: string) => boolean {
    const picked = new Map<string, number>();
    /** Per tenant: rows picked, and endpoints picked that it holds nothing of (they count in its equal part). */
    const ofTenant = new Map<string, { rows: number; newcomers: number }>();
    return (tenant, endpoint) => {
      const share = this.tenants.get(tenant);
      const key = `${tenant}\n${endpoint}`;
      const heldHere = share?.endpoints.get(endpoint)?.size ?? 0;
      const pickedHere = picked.get(key) ?? 0;
      const mine = heldHere + pickedHere;
      const t = ofTenant.get(tenant) ?? { rows: 0, newcomers: 0 };
      const newcomer = heldHere === 0 && pickedHere === 0;
      const endpoints = (share?.endpoints.size ?? 0) + t.newcomers + (newcomer ? 1 : 0);
      if (this.room(mine, (share?.held ?? 0) + t.rows, endpoints) === "none") return false;
      picked.set(key, pickedHere + 1);
      ofTenant.set(tenant, { rows: t.rows + 1, newcomers: t.newcomers + (newcomer ? 1 : 0) });
      return true;
    };
  }

  /**
   * The rule for one more delivery of an endpoint holding `mine`, whose tenant holds `held` among `endpoints`
   * endpoints (this one included): it fits under both limits; at the endpoint's limit, or at its equal part of
   * a full tenant, there is none; under that equal part, room is made by parking another ("evict").
   */
  private room(mine: number, held: number, endpoints: number): "fits" | "none" | "evict" {
    if (mine >= this.limits.maxHeldPerEndpoint) return "none";
    if (held < this.limits.maxHeldPerTenant) return "fits";
    return mine < this.equalPart(endpoints) ? "evict" : "none";
  }

  /** An equal part of the tenant's share among this many endpoints. */
  private equalPart(endpoints: number): number {
    return Math.max(1, Math.floor(this.limits.maxHeldPerTenant / endpoints));
  }

  /** A delivery not started of the tenant's largest endpoint, when that holds at least two more than `mine`. */
  private evictable(share: TenantShare<T>, mine: number): T | undefined {
    let largest: Set<T> | undefined;
    for (const set of share.endpoints.values()) if (!largest || set.size > largest.size) largest = set;
    if (!largest || largest.size < mine + 2) return undefined;
    for (const item of largest) if (!item.running) return item;
    return undefined;
  }
}
