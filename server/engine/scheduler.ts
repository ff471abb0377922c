// When attempts run: each at its time, at most maxInFlightPerEndpoint at once to one endpoint,
// maxInFlightPerTenant for one tenant and maxInFlight in all. An endpoint is a subscription (a Send's
// origin, for its tenant): two tenants, or two subscriptions, never share a line, so hanging requests
// of one cannot keep the other's waiting. Work for a busy endpoint waits in that endpoint's line; a
// freed slot goes to its own endpoint's line first, then, in turn, to lines held back by the tenant's
// or the total limit.
import type { Clock } from "../ports.js";

export interface SchedulerLimits {
  maxInFlight: number;
  maxInFlightPerTenant: number;
  maxInFlightPerEndpoint: number;
}

export interface Scheduled {
  /** The line the attempt waits in: one per endpoint of one tenant (the unit of the per-endpoint limit). */
  readonly endpoint: string;
  readonly tenant: string;
  timer: unknown;
}

interface Line<T> {
  tenant: string;
  inFlight: number;
  waiting: T[];
}

export class Scheduler<T extends Scheduled> {
  private readonly lines = new Map<string, Line<T>>();
  private readonly tenantsInFlight = new Map<string, number>();
  /** Lines with waiting work that could not start for the tenant's or the total limit, in turn order. */
  private readonly blocked = new Set<string>();
  private inFlightCount = 0;
  private stopped = false;
  readonly running = new Set<Promise<void>>();

  constructor(
    private readonly limits: SchedulerLimits,
    private readonly clock: Clock,
    /** Runs one attempt; its end frees the slot. */
    private readonly run: (item: T) => Promise<void>,
  ) {}

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
  }

  private line(item: T): Line<T> {
    let line = this.lines.get(item.endpoint);
    if (!line) {
      line = { tenant: item.tenant, inFlight: 0, waiting: [] };
      this.lines.set(item.endpoint, line);
    }
    return line;
  }

  /** Room beyond the line's own limit: the tenant's and the total. */
  private hasSharedRoom(line: Line<T>): boolean {
    return this.inFlightCount < this.limits.maxInFlight && (this.tenantsInFlight.get(line.tenant) ?? 0) < this.limits.maxInFlightPerTenant;
  }

  private hasRoom(line: Line<T>): boolean {
    return line.inFlight < this.limits.maxInFlightPerEndpoint && this.hasSharedRoom(line);
  }

  private enqueue(item: T): void {
    if (this.stopped) return;
    const line = this.line(item);
    if (this.hasRoom(line)) return this.start(item, line);
    line.waiting.push(item);
    if (line.inFlight < this.limits.maxInFlightPerEndpoint) this.blocked.add(item.endpoint);
  }

  private pump(endpoint: string): void {
    if (this.stopped) return;
    const line = this.lines.get(endpoint);
    if (line && line.waiting.length > 0 && this.hasRoom(line)) this.start(line.waiting.shift()!, line);
    else if (line && line.waiting.length > 0) this.blocked.add(endpoint);
    if (this.blocked.size > 0) this.serveBlocked();
    if (line && line.inFlight === 0 && line.waiting.length === 0) this.lines.delete(endpoint);
  }

  private serveBlocked(): void {
    for (const other of [...this.blocked]) {
      if (this.inFlightCount >= this.limits.maxInFlight) break;
      const o = this.lines.get(other);
      if (!o || o.waiting.length === 0) {
        this.blocked.delete(other);
        continue;
      }
      if (!this.hasRoom(o)) continue;
      // One start per line per turn, and the line goes to the back: freed slots go round the lines.
      this.start(o.waiting.shift()!, o);
      this.blocked.delete(other);
      if (o.waiting.length > 0 && o.inFlight < this.limits.maxInFlightPerEndpoint) this.blocked.add(other);
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
