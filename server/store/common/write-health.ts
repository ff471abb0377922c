// Whether the store can write: turned off by a write the store refused for a reason of its own (a full disk),
// turned on again by a small probe write that succeeds. gRPC health reports NOT_SERVING meanwhile, so a load
// balancer sends Triggers to a server that can store them.
import type { Collection } from "mongodb";
import type { StoreFault, StoreFaults, StoreWriteFault, WriteFaultRelay } from "../../ports.js";
import { isStoreUnavailable, storeWriteFault } from "./store-errors.js";
import { errorFields, type Logger } from "../../telemetry/log.js";

/** Probes 100 ms after the failure, then 200, 400, … at most 5 s apart, until one succeeds. */
const PROBE_FIRST_DELAY_MS = 100;
const PROBE_MAX_DELAY_MS = 5000;
/** The probe's one document in hookwire_meta, rewritten by every process that probes (several may share a database). */
const PROBE_ID = "write-probe";
/**
 * The probe writes this much (in a fresh value each time) so that it needs room like a small Trigger does: a
 * rewrite of a few bytes can fit in a page SQLite already has while a Trigger's insert cannot.
 */
const PROBE_BYTES = 4096;

export class WriteHealth implements StoreFaults, WriteFaultRelay {
  private failing: { since: number; fault: StoreWriteFault } | undefined;
  private readonly refusedListeners: Array<(fault: StoreWriteFault) => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly meta: Collection<{ _id: string }>,
    private readonly log: Logger,
  ) {}

  /** False from a write the store refused on its own account until a probe write succeeds. */
  get writable(): boolean {
    return this.failing === undefined;
  }

  /**
   * Told of any failed store call: when it is the store's own refusal to write, writes count as broken (and
   * probing starts) until one succeeds. Answers the fault, or undefined when it is not one; a store that cannot
   * be reached is "unreachable" (health finds that by its ping).
   */
  failed(err: unknown): StoreFault | undefined {
    if (isStoreUnavailable(err)) return "unreachable";
    const fault = storeWriteFault(err);
    if (!fault || this.stopped) return fault;
    if (!this.failing) {
      this.failing = { since: Date.now(), fault };
      this.log.error("the database cannot write; health is NOT_SERVING until a probe write succeeds", { fault, ...errorFields(err) });
      this.schedule(PROBE_FIRST_DELAY_MS);
      for (const listener of this.refusedListeners) listener(fault);
    }
    return fault;
  }

  onRefused(listener: (fault: StoreWriteFault) => void): void {
    this.refusedListeners.push(listener);
  }

  heard(fault: StoreWriteFault): void {
    if (this.failing || this.stopped) return;
    this.failing = { since: Date.now(), fault };
    this.log.warn("another worker's write was refused; health is NOT_SERVING until a probe write succeeds", { fault });
    this.schedule(PROBE_FIRST_DELAY_MS);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.probe(delayMs), delayMs);
  }

  private async probe(delayMs: number): Promise<void> {
    if (this.stopped || !this.failing) return;
    try {
      await this.meta.updateOne(
        { _id: PROBE_ID },
        { $set: { at: new Date(), pad: Math.random().toString(36).padEnd(PROBE_BYTES, "0") } },
        { upsert: true },
      );
    } catch (err) {
      // Still failing (or unreachable): wait longer. Another fault kind replaces the recorded one.
      const fault = storeWriteFault(err);
      if (fault) this.failing.fault = fault;
      this.schedule(Math.min(delayMs * 2, PROBE_MAX_DELAY_MS));
      return;
    }
    this.log.info("the database writes again; health is SERVING", { fault: this.failing.fault, afterMs: Date.now() - this.failing.since });
    this.failing = undefined;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
