// The work this process holds in the store: it takes due work no live process holds (retries
// released to the store, the work of a process that died, its own after a restart), renews its
// hold while it works, and drops work whose message was never stored.
import { errorFields, type Logger } from "../telemetry/log.js";
import type { HookwireMetrics } from "../telemetry/metrics.js";
import type { Clock, DeliveryQueue, HeldDelivery, TakeWants } from "../ports.js";

/** A message still missing after this long means its Trigger failed half-way and was never answered. */
export const ORPHAN_AGE_MS = 60_000;

export interface HoldKeeperOptions {
  holdMs: number;
  pollMs: number;
  /** Most deliveries taken at once. */
  takeAtOnce: number;
}

export interface HoldKeeperDeps {
  queue: DeliveryQueue;
  clock: Clock;
  log: Logger;
  metrics: HookwireMetrics;
  /** How many more deliveries the engine can hold now. */
  room(): number;
  /** How many deliveries the engine holds (nothing to renew when none). */
  heldCount(): number;
  /** The tenants and endpoints whose work is to stay in the store for now (their shares are full). */
  skip(): string[];
  /** For one take: which due rows it wants (no more of one endpoint than has room). */
  wants(): TakeWants;
  /** Which of these messages exist. */
  existingMessages(ids: string[]): Promise<Set<string>>;
  /** Hands taken work to the engine. */
  hold(item: HeldDelivery): void;
}

export class HoldKeeper {
  private takeTimer: unknown;
  private renewTimer: unknown;
  private taking = false;
  private stopped = false;

  constructor(
    private readonly deps: HoldKeeperDeps,
    private readonly opts: HoldKeeperOptions,
  ) {}

  start(): void {
    this.wake(0);
    this.scheduleRenew();
  }

  stop(): void {
    this.stopped = true;
    if (this.takeTimer !== undefined) this.deps.clock.clearTimeout(this.takeTimer);
    if (this.renewTimer !== undefined) this.deps.clock.clearTimeout(this.renewTimer);
  }

  /** Looks for due work after delayMs at the latest (the earlier of this and the wake-up already set). */
  wake(delayMs: number): void {
    if (this.stopped) return;
    const wait = Math.min(Math.max(delayMs, 0), this.opts.pollMs);
    if (this.takeTimer !== undefined) {
      if (wait >= this.opts.pollMs) return;
      this.deps.clock.clearTimeout(this.takeTimer);
    }
    this.takeTimer = this.deps.clock.setTimeout(() => {
      this.takeTimer = undefined;
      void this.take();
    }, wait);
  }

  private scheduleRenew(): void {
    if (this.stopped) return;
    this.renewTimer = this.deps.clock.setTimeout(() => void this.renew().finally(() => this.scheduleRenew()), Math.max(100, Math.floor(this.opts.holdMs / 3)));
  }

  private async take(): Promise<void> {
    if (this.taking || this.stopped) return;
    this.taking = true;
    let full = false;
    try {
      const room = Math.min(this.opts.takeAtOnce, this.deps.room());
      if (room <= 0) return;
      const wants = this.deps.wants();
      let declined = 0;
      const taken = await this.deps.queue.takeDue(new Date(this.deps.clock.now()), room, this.deps.skip(), (tenant, subscriptionId) => {
        if (wants(tenant, subscriptionId)) return true;
        declined++;
        return false;
      });
      const held = await this.adopt(taken);
      // Rows declined for want of room leave their endpoints out of the next take (skip), so look again at
      // once for other endpoints' work behind them, as when the take was full.
      full = taken.length >= room || (declined > 0 && taken.length > 0);
      if (taken.length > 0) this.deps.log.debug("claimed due deliveries", { claimed: held, held: this.deps.heldCount() });
    } catch (err) {
      // The metric's label and the log lines keep the words they were published with (docs/operations.md): dashboards
      // and log searches know them.
      this.deps.metrics.storeError("claim");
      this.deps.log.warn("claiming due deliveries failed; will retry", errorFields(err));
    } finally {
      this.taking = false;
      this.wake(full ? 0 : this.opts.pollMs);
    }
  }

  /**
   * Taken deliveries are held if their message exists. Orphans go; young ones whose message may still
   * be on its way are released, to be taken again once their hold runs out. Answers how many are held.
   */
  private async adopt(taken: HeldDelivery[]): Promise<number> {
    if (taken.length === 0) return 0;
    const messages = await this.deps.existingMessages(taken.map((t) => t.delivery.messageId));
    const orphans: HeldDelivery[] = [];
    const later: HeldDelivery[] = [];
    let held = 0;
    for (const item of taken) {
      const doc = item.delivery;
      if (messages.has(doc.messageId)) {
        this.deps.hold(item);
        held++;
      } else (this.deps.clock.now() - doc.createdAt.getTime() > ORPHAN_AGE_MS ? orphans : later).push(item);
    }
    if (orphans.length > 0) {
      this.deps.log.warn("dropping deliveries of a message that was never stored", { count: orphans.length });
      await this.deps.queue.drop(orphans);
    }
    if (later.length > 0) await this.deps.queue.release(later);
    return held;
  }

  private async renew(): Promise<void> {
    if (this.deps.heldCount() === 0) return;
    try {
      await this.deps.queue.renew();
    } catch (err) {
      this.deps.metrics.storeError("renew");
      this.deps.log.warn("renewing delivery leases failed", errorFields(err));
    }
  }
}
