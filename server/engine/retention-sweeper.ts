// Removes finished messages past the retention age in the background: a sweep every interval, in
// chunks of a bounded size with a pause between them, so a large backlog (retention just turned on,
// or a store that was down) is worked off without holding the store for long at a time. The store
// decides what is finished and keeps the rest (Retention in ports.ts); several processes may sweep
// one database at once. Each sweep also removes the customer portal sessions that have expired (whatever
// the retention age, even with retention off): they open nothing once expired, and would otherwise stay.
import { errorFields, type Logger } from "../telemetry/log.js";
import type { Clock, PortalSessions, Recoveries, Retention } from "../ports.js";

export interface RetentionOptions {
  /** Messages older than this go once finished; 0 keeps everything. */
  retentionMs: number;
  /** Time between sweeps. */
  intervalMs: number;
  /** Most messages one chunk removes. */
  chunk: number;
  /** Pause between the chunks of one sweep. */
  pauseMs: number;
}

export const DEFAULT_RETENTION: Omit<RetentionOptions, "retentionMs" | "intervalMs"> = { chunk: 500, pauseMs: 200 };

export class RetentionSweeper {
  private timer: unknown;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly retention: Retention,
    /** Recovery's marks of deliveries past the age go too: nothing is left to recover twice. */
    private readonly recoveries: Pick<Recoveries, "forget">,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: RetentionOptions,
    /** Expired portal sessions go at each sweep; none swept when absent. */
    private readonly portalSessions?: Pick<PortalSessions, "removeExpired">,
  ) {}

  start(): void {
    if (this.opts.retentionMs > 0 || this.portalSessions) this.schedule(this.opts.intervalMs);
  }

  /** No sweep starts after this; resolves once the chunk in progress (if any) is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.running = this.sweep().finally(() => {
        this.running = undefined;
        this.schedule(this.opts.intervalMs);
      });
    }, ms);
  }

  private async sweep(): Promise<void> {
    if (this.opts.retentionMs > 0) await this.sweepMessages();
    if (this.portalSessions) await this.sweepSessions(this.portalSessions);
  }

  private async sweepSessions(sessions: Pick<PortalSessions, "removeExpired">): Promise<void> {
    let removed = 0;
    try {
      while (!this.stopped) {
        const n = await sessions.removeExpired(new Date(this.clock.now()), this.opts.chunk);
        removed += n;
        if (n < this.opts.chunk) break;
        await new Promise<void>((r) => this.clock.setTimeout(r, this.opts.pauseMs));
      }
    } catch (err) {
      this.log.warn("removing expired portal sessions failed; will retry at the next sweep", errorFields(err));
    }
    if (removed > 0) this.log.debug("retention: removed expired portal sessions", { sessions: removed });
  }

  private async sweepMessages(): Promise<void> {
    let removed = 0;
    try {
      for (;;) {
        const before = new Date(this.clock.now() - this.opts.retentionMs);
        const res = await this.retention.sweep(before, this.opts.chunk);
        removed += res.messages;
        if (!res.more || this.stopped) break;
        await new Promise<void>((r) => this.clock.setTimeout(r, this.opts.pauseMs));
        if (this.stopped) break;
      }
      while (!this.stopped) {
        const before = new Date(this.clock.now() - this.opts.retentionMs);
        if ((await this.recoveries.forget(before, this.opts.chunk)) < this.opts.chunk) break;
        await new Promise<void>((r) => this.clock.setTimeout(r, this.opts.pauseMs));
      }
    } catch (err) {
      this.log.warn("retention sweep failed; will retry at the next one", errorFields(err));
    }
    if (removed > 0) this.log.info("retention: removed finished messages", { messages: removed });
  }
}
