// When attempts run: each at its time, at most maxInFlightPerEndpoint at once to one endpoint,
// maxInFlightPerTenant for one tenant and maxInFlight in all. An endpoint is a subscription (a Send's
// origin, for its tenant): two tenants, or two subscriptions, never share a line, so hanging requests
// of one cannot keep the other's waiting. Work for a busy endpoint waits in that endpoint's line; a
// freed slot goes to its own endpoint's line first, then, in turn, to lines held back by the tenant's
// or the total limit.
//
// A subscription with a rate limit paces its line: a start takes one of the line's tokens (pacer.ts),
// and a line without one waits for a timer set to its next token, holding no slot and out of the turns
// of lines held back by the shared limits, so it neither spins nor keeps another line waiting. What it
// holds meanwhile is what its share allows (shares.ts), as for an endpoint that answers slowly. The rate
// is read by each attempt's preparation (pace()); until a line's rate is known, one attempt at a time
// starts on it, and the first that learns it is charged its token then.
import type { Clock } from "../ports.js";
import { Pacer, type LinePacer } from "./pacer.js";

export interface SchedulerLimits {
  maxInFlight: number;
  maxInFlightPerTenant: number;
  maxInFlightPerEndpoint: number;
}

export interface Scheduled {
  /** The line the attempt waits in: one per endpoint of one tenant (the unit of the per-endpoint limit). */
  readonly endpoint: string;
  readonly tenant: string;
  /** Its line may have a rate limit (a subscription's); false for one that never has (a Send's). */
  readonly paced: boolean;
  timer: unknown;
}

interface Line<T> {
  tenant: string;
  inFlight: number;
  waiting: T[];
  /** Attempts a second at most, 0 for no limit; undefined until an attempt of the line has read it. */
  rate: number | undefined;
  /** Set while the line waits for its next token. */
  paceTimer: unknown;
}

export class Scheduler<T extends Scheduled> {
  private readonly lines = new Map<string, Line<T>>();
  private readonly tenantsInFlight = new Map<string, number>();
  /** Lines with waiting work that could not start for the tenant's or the total limit, in turn order. */
  private readonly blocked = new Set<string>();
  private inFlightCount = 0;
  private stopped = false;
  private readonly pacer: LinePacer;
  readonly running = new Set<Promise<void>>();

  constructor(
    private readonly limits: SchedulerLimits,
    private readonly clock: Clock,
    /** Runs one attempt; its end frees the slot. */
    private readonly run: (item: T) => Promise<void>,
    /** Where lines' tokens come from: this process's own buckets unless several processes share the limits. */
    pacer?: LinePacer,
  ) {
    this.pacer = pacer ?? new Pacer(() => clock.now());
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Runs the item after delayMs (at once when not positive), within the limits. */
  after(item: T, delayMs: number): void {
    if (delayMs <= 0) return this.enqueue(item);
    item.timer = this.clock.setTimeout(() => {
      item.timer = undefined;
      this.enqueue(item);
    }, delayMs);
  }

  cancel(item: T): void {
    if (item.timer !== undefined) this.clock.clearTimeout(item.timer);
    item.timer = undefined;
  }

  /** Takes back an item not started yet, whether it waits for its time or in its line. */
  withdraw(item: T): void {
    this.cancel(item);
    const line = this.lines.get(item.endpoint);
    const at = line ? line.waiting.indexOf(item) : -1;
    if (at >= 0) line!.waiting.splice(at, 1);
  }

  /** Starts nothing more; attempts in flight go on (see running). */
  stop(): void {
    this.stopped = true;
    for (const line of this.lines.values()) this.unpause(line);
  }

  /**
   * An attempt of the item's line read the line's rate limit (attempts a second, 0 for none) as it is
   * now: it applies from the line's next start. The attempt that first learns it is charged its token.
   */
  pace(item: T, perSecond: number): void {
    const line = this.lines.get(item.endpoint);
    if (!item.paced || !line || line.rate === perSecond) return;
    const learnt = line.rate === undefined;
    line.rate = perSecond;
    this.unpause(line);
    if (perSecond === 0) this.pacer.forget(item.endpoint);
    else if (learnt) this.pacer.charge(item.endpoint, perSecond);
    this.fill(item.endpoint);
  }

  private line(item: T): Line<T> {
    let line = this.lines.get(item.endpoint);
    if (!line) {
      line = { tenant: item.tenant, inFlight: 0, waiting: [], rate: item.paced ? this.pacer.known(item.endpoint) : 0, paceTimer: undefined };
      this.lines.set(item.endpoint, line);
    }
    return line;
  }

  private unpause(line: Line<T>): void {
    if (line.paceTimer !== undefined) this.clock.clearTimeout(line.paceTimer);
    line.paceTimer = undefined;
  }

  /**
   * Takes the line's token for one start: true when it may start now; else the line waits for a timer to
   * its next token. A line whose rate is not known yet starts one attempt at a time (ownRoom), untaxed.
   */
  private token(endpoint: string, line: Line<T>): boolean {
    if (!line.rate) return true;
    const waitMs = this.pacer.take(endpoint, line.rate);
    if (waitMs === 0) return true;
    line.paceTimer = this.clock.setTimeout(() => {
      line.paceTimer = undefined;
      this.fill(endpoint);
    }, waitMs);
    return false;
  }

  /** Room within the line's own limits: its in-flight limit (one while its rate is unknown), and no token awaited. */
  private ownRoom(line: Line<T>): boolean {
    return line.paceTimer === undefined && line.inFlight < (line.rate === undefined ? 1 : this.limits.maxInFlightPerEndpoint);
  }

  /** Room beyond the line's own limit: the tenant's and the total. */
  private hasSharedRoom(line: Line<T>): boolean {
    return this.inFlightCount < this.limits.maxInFlight && (this.tenantsInFlight.get(line.tenant) ?? 0) < this.limits.maxInFlightPerTenant;
  }

  private hasRoom(line: Line<T>): boolean {
    return this.ownRoom(line) && this.hasSharedRoom(line);
  }

  private enqueue(item: T): void {
    if (this.stopped) return;
    const line = this.line(item);
    if (this.hasRoom(line) && this.token(item.endpoint, line)) return this.start(item, line);
    line.waiting.push(item);
    // Held back by the tenant's or the total limit alone: it takes its turn when a slot frees.
    if (this.ownRoom(line)) this.blocked.add(item.endpoint);
  }

  /** After one of the line's attempts ended: one start for the freed slot, then turns for lines held back. */
  private pump(endpoint: string): void {
    if (this.stopped) return;
    const line = this.lines.get(endpoint);
    if (line && line.waiting.length > 0) {
      if (!this.hasRoom(line)) {
        if (this.ownRoom(line)) this.blocked.add(endpoint);
      } else if (this.token(endpoint, line)) this.start(line.waiting.shift()!, line);
    }
    if (this.blocked.size > 0) this.serveBlocked();
    if (line) this.dropIfIdle(endpoint, line);
  }

  /** Starts as much of the line's waiting work as its limits and tokens allow (its rate was learnt or changed, or its next token came). */
  private fill(endpoint: string): void {
    if (this.stopped) return;
    const line = this.lines.get(endpoint);
    if (!line) return;
    while (line.waiting.length > 0 && this.hasRoom(line) && this.token(endpoint, line)) this.start(line.waiting.shift()!, line);
    if (line.waiting.length > 0 && this.ownRoom(line) && !this.hasSharedRoom(line)) this.blocked.add(endpoint);
    this.dropIfIdle(endpoint, line);
  }

  private dropIfIdle(endpoint: string, line: Line<T>): void {
    if (line.inFlight === 0 && line.waiting.length === 0 && line.paceTimer === undefined && this.lines.get(endpoint) === line) this.lines.delete(endpoint);
  }

  private serveBlocked(): void {
    for (const other of [...this.blocked]) {
      if (this.inFlightCount >= this.limits.maxInFlight) break;
      const o = this.lines.get(other);
      if (!o || o.waiting.length === 0) {
        this.blocked.delete(other);
        continue;
      }
      if (!this.hasRoom(o)) {
        // Full on its own account (or waiting for its token): its own end or timer serves it, not these turns.
        if (!this.ownRoom(o)) this.blocked.delete(other);
        continue;
      }
      this.blocked.delete(other);
      if (!this.token(other, o)) continue;
      // One start per line per turn, and the line goes to the back: freed slots go round the lines.
      this.start(o.waiting.shift()!, o);
      if (o.waiting.length > 0 && this.ownRoom(o)) this.blocked.add(other);
    }
  }

  private start(item: T, line: Line<T>): void {
    line.inFlight++;
    this.inFlightCount++;
    this.tenantsInFlight.set(line.tenant, (this.tenantsInFlight.get(line.tenant) ?? 0) + 1);
    const p = this.run(item).finally(() => {
      line.inFlight--;
      this.inFlightCount--;
      const t = this.tenantsInFlight.get(line.tenant)! - 1;
      if (t > 0) this.tenantsInFlight.set(line.tenant, t);
      else this.tenantsInFlight.delete(line.tenant);
      this.running.delete(p);
      this.pump(item.endpoint);
    });
    this.running.add(p);
  }
}
