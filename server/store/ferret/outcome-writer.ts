// Outcomes are written in batches: many attempts finishing together cost a few database round trips.
// A failed write keeps its batch and tries again, so no outcome is dropped while the process lives.
import type { Logger } from "../../telemetry/log.js";
import { errorFields } from "../../telemetry/log.js";
import type { DeliveryStore, Outcome } from "./deliveries.js";
import type { DeliveryDoc } from "../common/delivery-doc.js";

/** An outcome, the lot it was accepted into if this is its first (it had no row until now), and who waits for it to be stored. */
export interface WrittenOutcome extends Outcome {
  lotId?: string | undefined;
  stored: Array<() => void>;
}

export class OutcomeWriter {
  private retrying = new Map<string, WrittenOutcome>();
  private finished = new Map<string, WrittenOutcome>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;

  constructor(
    private readonly store: DeliveryStore,
    /** The queue's holder: whose held rows the writes end. */
    private readonly holder: string,
    private readonly log: Logger,
    private readonly onWritten: (outcomes: WrittenOutcome[]) => void,
    private readonly onFailed: (err: unknown) => void = () => {},
    private readonly maxBatch = 500,
    // Outcomes wait this long to gather: nothing answers a Trigger from them, and at 10 deliveries a
    // Trigger 20 ms (against 5) cut the server's CPU per delivery by about a tenth and FerretDB's by
    // more (bench/HISTORY.md, fifth part); a Send's caller learns its result that much later.
    private readonly delayMs = 20,
  ) {}

  /** Resolves once this state (or a newer one of the same delivery) is stored. */
  add(doc: DeliveryDoc, rowExists: boolean, lotId?: string): Promise<void> {
    return new Promise((resolve) => {
      this.merge({ doc, rowExists, lotId, stored: [resolve] });
      this.scheduleOrFlush();
    });
  }

  /**
   * A newer state replaces an unwritten older one; if the older one was to insert the queue row,
   * the newer one must insert it too, and keeps the older one's lot.
   */
  private merge(o: WrittenOutcome): void {
    const prev = this.retrying.get(o.doc._id) ?? this.finished.get(o.doc._id);
    const merged: WrittenOutcome = prev
      ? { doc: o.doc, rowExists: o.rowExists && prev.rowExists, lotId: prev.lotId ?? o.lotId, stored: [...prev.stored, ...o.stored] }
      : o;
    if (o.doc.status === "pending") this.retrying.set(o.doc._id, merged);
    else {
      this.retrying.delete(o.doc._id);
      this.finished.set(o.doc._id, merged);
    }
  }

  private scheduleOrFlush(): void {
    if (this.size >= this.maxBatch) void this.flush();
    else this.schedule(this.delayMs);
  }

  get size(): number {
    return this.retrying.size + this.finished.size;
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }

  /** Writes what is buffered; resolves when this batch is stored or has failed (and been kept). */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => (this.size > 0 ? this.flush() : undefined));
    if (this.size === 0) return;
    const retrying = [...this.retrying.values()];
    const finished = [...this.finished.values()];
    this.retrying = new Map();
    this.finished = new Map();
    this.flushing = (async () => {
      try {
        await this.store.writeOutcomes(this.holder, retrying, finished);
        this.failures = 0;
        this.onWritten([...retrying, ...finished]);
        for (const o of [...retrying, ...finished]) for (const done of o.stored) done();
      } catch (err) {
        this.failures++;
        this.onFailed(err);
        this.log.warn("writing delivery outcomes failed; will retry", { count: retrying.length + finished.length, ...errorFields(err) });
        // Put the batch back under any newer state of the same delivery that arrived meanwhile.
        const newer = [...this.retrying.values(), ...this.finished.values()];
        this.retrying = new Map();
        this.finished = new Map();
        for (const o of [...retrying, ...finished, ...newer]) this.merge(o);
        this.schedule(Math.min(200 * 2 ** this.failures, 5000));
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  /** Flushes until empty or the deadline passes; answers whether everything was written. */
  async drain(deadline: number): Promise<boolean> {
    while (this.size > 0 && Date.now() < deadline) {
      await this.flush();
      if (this.size > 0) await new Promise((r) => setTimeout(r, 200));
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    return this.size === 0;
  }
}
