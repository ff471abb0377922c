// When attempts run: each at its time, at most maxInFlightPerEndpoint at once to one endpoint and
// maxInFlight in all. Work for a busy endpoint waits in that endpoint's line, so one slow or dead
// endpoint holds back only its own share; a freed slot goes to its own endpoint's line first, then
// to lines held back by the total limit.
import type { Clock } from "../ports.js";

export interface SchedulerLimits {
  maxInFlight: number;
  maxInFlightPerEndpoint: number;
}

export interface Scheduled {
  /** Where the attempt goes (an origin): the unit of the per-endpoint limit. */
  readonly endpoint: string;
  timer: unknown;
}

interface Line<T> {
  inFlight: number;
  waiting: T[];
}

export class Scheduler<T extends Scheduled> {
  private readonly lines = new Map<string, Line<T>>();
  /** Endpoints with waiting work that could not start because the total limit was reached. */
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

  /** Starts nothing more; attempts in flight go on (see running). */
  stop(): void {
    this.stopped = true;
  }

  private line(endpoint: string): Line<T> {
    let line = this.lines.get(endpoint);
    if (!line) {
      line = { inFlight: 0, waiting: [] };
      this.lines.set(endpoint, line);
    }
    return line;
  }

  private hasRoom(line: Line<T>): boolean {
    return line.inFlight < this.limits.maxInFlightPerEndpoint && this.inFlightCount < this.limits.maxInFlight;
  }

  private enqueue(item: T): void {
    if (this.stopped) return;
    const line = this.line(item.endpoint);
    if (this.hasRoom(line)) return this.start(item, line);
    line.waiting.push(item);
    if (line.inFlight < this.limits.maxInFlightPerEndpoint) this.blocked.add(item.endpoint);
  }

  private pump(endpoint: string): void {
    if (this.stopped) return;
    const line = this.lines.get(endpoint);
    if (line && line.waiting.length > 0 && this.hasRoom(line)) this.start(line.waiting.shift()!, line);
    for (const other of this.blocked) {
      if (this.inFlightCount >= this.limits.maxInFlight) break;
      const o = this.lines.get(other);
      if (!o || o.waiting.length === 0) {
        this.blocked.delete(other);
        continue;
      }
      while (o.waiting.length > 0 && this.hasRoom(o)) this.start(o.waiting.shift()!, o);
      if (o.waiting.length === 0 || o.inFlight >= this.limits.maxInFlightPerEndpoint) this.blocked.delete(other);
    }
    if (line && line.inFlight === 0 && line.waiting.length === 0) this.lines.delete(endpoint);
  }

  private start(item: T, line: Line<T>): void {
    line.inFlight++;
    this.inFlightCount++;
    const p = this.run(item).finally(() => {
      line.inFlight--;
      this.inFlightCount--;
      this.running.delete(p);
      this.pump(item.endpoint);
    });
    this.running.add(p);
  }
}
