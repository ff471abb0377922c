// A clock for the engine's timers (server/ports.ts Clock) that runs them only when a test moves time on.
import type { Clock } from "../../server/ports.js";
import { sleep } from "./wait.js";

/** Timers run only when the test moves time on. */
export class FakeClock implements Clock {
  /** `settleWith`: what lets the work a timer set off happen before the test looks (by default, settle below). */
  constructor(private readonly settleWith: () => Promise<void> = settle) {}

  private t = Date.now();
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;

  now(): number {
    return this.t;
  }

  /** Timers set and not run or cleared yet. */
  get pending(): number {
    return this.timers.length;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + Math.max(0, ms), fn, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }

  /** Moves time on by ms, running each timer due on the way, letting real I/O settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const next = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.fn();
      await this.settleWith();
    }
    this.t = end;
    await this.settleWith();
  }
}

/**
 * Lets promise chains and local I/O that the timers started run. A sleep, as the fake clock's part of real time:
 * after time moves on, what a timer set off gets this long to happen before the test looks, so a check that
 * nothing was sent yet (right after advance) can fail. Tests wait for what they expect on its event instead.
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await sleep(2);
}

