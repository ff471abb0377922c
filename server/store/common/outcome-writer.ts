// Recorded delivery states are written in batches: many attempts finishing together cost a few database
// round trips. A failed write keeps its batch and tries again, backing off, so no state is dropped while
// the process lives. Both layouts record through one; each says how it writes a batch and what else it
// keeps beside a state.
import { errorFields, type Logger } from "../../telemetry/log.js";
import type { DeliveryDoc } from "./delivery-doc.js";

/** A state to store, and who waits for it (or a newer state of its delivery) to be stored. */
export interface Unwritten {
  doc: DeliveryDoc;
  stored: Array<() => void>;
}

export interface OutcomeWriterOptions<O extends Unwritten> {
  /** Stores a batch, every state in it or (by throwing) none for sure: a failed batch is written again whole. */
  write(outcomes: O[]): Promise<void>;
  /** A newer state over an unwritten older one of the same delivery (their waiters are joined apart); by default the newer. */
  merge?(older: O, newer: O): Omit<O, "stored">;
  /** Told of each batch once it is stored, before its waiters hear of it. */
  written?(outcomes: O[]): void;
  /** Told of each failed write. */
  failed?(err: unknown): void;
  log: Logger;
  /** How long states wait to gather before they are written. */
  delayMs: number;
  /** This many states waiting are written at once. */
  maxBatch?: number;
}

export class OutcomeWriter<O extends Unwritten> {
  private waiting = new Map<string, O>();
  /** States of the write in progress: not stored yet either. */
  private writing = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;

  constructor(private readonly opts: OutcomeWriterOptions<O>) {}

  /** Resolves once this state (or a newer one of the same delivery) is stored. */
  add(outcome: Omit<O, "stored">): Promise<void> {
    return new Promise((resolve) => {
      this.merge({ ...outcome, stored: [resolve] } as O);
      if (this.waiting.size >= (this.opts.maxBatch ?? 500)) void this.flush();
      else this.schedule(this.opts.delayMs);
    });
  }

  /** States recorded and not stored yet, the write in progress included. */
  get size(): number {
    return this.waiting.size + this.writing;
  }

  private merge(o: O): void {
    const older = this.waiting.get(o.doc._id);
    const merged = older ? ({ ...(this.opts.merge?.(older, o) ?? o), stored: [...older.stored, ...o.stored] } as O) : o;
    this.waiting.set(o.doc._id, merged);
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }

  /** Writes what waits; resolves when this batch is stored or has failed (and been kept). */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.waiting.size > 0 ? this.flush() : undefined));
    if (this.waiting.size === 0) return;
    const batch = [...this.waiting.values()];
    this.waiting = new Map();
    this.writing = batch.length;
    this.flushing = (async () => {
      try {
        await this.opts.write(batch);
        this.failures = 0;
        this.opts.written?.(batch);
        for (const o of batch) for (const done of o.stored) done();
      } catch (err) {
        this.failures++;
        this.opts.failed?.(err);
        this.opts.log.warn("writing delivery outcomes failed; will retry", { count: batch.length, ...errorFields(err) });
        // The batch goes back under any newer state of the same delivery that arrived meanwhile.
        const newer = [...this.waiting.values()];
        this.waiting = new Map();
        for (const o of [...batch, ...newer]) this.merge(o);
        this.schedule(Math.min(200 * 2 ** this.failures, 5000));
      } finally {
        this.writing = 0;
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  /**
   * Writes until everything is stored or the deadline passes (a write still in progress then is not waited
   * for); answers whether everything was. A retry still scheduled is dropped: this is the engine's last
   * call before it hands back its work and the store closes, and a pending timer would outlive both.
   */
  async drain(deadline: number): Promise<boolean> {
    while (this.size > 0 && Date.now() < deadline) {
      await beforeDeadline(this.flush(), deadline);
      if (this.size > 0) await beforeDeadline(new Promise((r) => setTimeout(r, 200)), deadline);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    return this.size === 0;
  }
}

/** Waits for `p`, or until the deadline if that comes first. */
async function beforeDeadline(p: Promise<unknown>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))));
  try {
    await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
