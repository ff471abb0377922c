// Outcomes are written in batches: many attempts finishing together cost a few database round trips.
// A failed write keeps its batch and tries again, so no outcome is dropped while the process lives.
import type { Logger } from "../log.js";
import { errorFields } from "../log.js";
import type { DeliveryDoc, DeliveryStore } from "../store/deliveries.js";

export class OutcomeWriter {
  private retrying = new Map<string, DeliveryDoc>();
  private finished = new Map<string, DeliveryDoc>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;

  constructor(
    private readonly store: DeliveryStore,
    private readonly log: Logger,
    private readonly onWritten: (docs: DeliveryDoc[]) => void,
    private readonly maxBatch = 500,
    private readonly delayMs = 5,
  ) {}

  add(doc: DeliveryDoc): void {
    if (doc.status === "pending") this.retrying.set(doc._id, doc);
    else {
      this.retrying.delete(doc._id);
      this.finished.set(doc._id, doc);
    }
    if (this.retrying.size + this.finished.size >= this.maxBatch) void this.flush();
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
        await this.store.writeOutcomes(retrying, finished);
        this.failures = 0;
        this.onWritten([...retrying, ...finished]);
      } catch (err) {
        this.failures++;
        this.log.warn("writing delivery outcomes failed; will retry", { count: retrying.length + finished.length, ...errorFields(err) });
        // Put the batch back unless a newer state of the same delivery arrived meanwhile.
        for (const d of retrying) if (!this.retrying.has(d._id) && !this.finished.has(d._id)) this.retrying.set(d._id, d);
        for (const d of finished) if (!this.finished.has(d._id)) this.finished.set(d._id, d);
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
