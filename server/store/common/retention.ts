// The retention sweep both layouts share: messages are visited oldest first, a page at a time; the
// old ones whose deliveries are all finished go, deliveries first and the message after (a sweep cut
// off between the two leaves a message without deliveries, which the next sweep removes; the other
// order could leave log rows no sweep would ever find). How a layout finds its oldest messages, tells
// what is still pending and removes rows is its own (RetentionLayout).
import type { Retention, SweepResult } from "../../ports.js";

/** What a sweep needs to know of a message: never its body or deliveries. */
export interface SweepCandidate {
  _id: string;
  tenant: string;
  createdAt: Date;
  /** The FerretDB layout's lot the message was accepted into. */
  lot?: string;
}

export interface RetentionLayout {
  /**
   * Up to `limit` messages in the order they were stored (oldest first), after the first `skip`; a
   * layout may stop at the cutoff itself or answer younger ones (the sweep stops at the first).
   */
  oldest(before: Date, skip: number, limit: number): Promise<SweepCandidate[]>;
  /** Which of these messages still have a delivery pending. */
  pending(candidates: SweepCandidate[]): Promise<Set<string>>;
  /** Removes every delivery row of these messages, then the messages. */
  remove(candidates: SweepCandidate[]): Promise<void>;
}

/** Messages read per step: bounds a step's memory and the time any one store command takes. */
export const SWEEP_PAGE = 200;

export class MessageSweeper implements Retention {
  constructor(private readonly layout: RetentionLayout) {}

  async sweep(before: Date, limit: number): Promise<SweepResult> {
    let removed = 0;
    // Old messages that stay (still pending) sit at the front of the order: skipped, not removed.
    let kept = 0;
    while (removed < limit) {
      const size = Math.min(SWEEP_PAGE, limit - removed);
      const page = await this.layout.oldest(before, kept, size);
      const firstYoung = page.findIndex((c) => c.createdAt >= before);
      const old = firstYoung === -1 ? page : page.slice(0, firstYoung);
      const pending = old.length > 0 ? await this.layout.pending(old) : new Set<string>();
      const done = old.filter((c) => !pending.has(c._id));
      if (done.length > 0) await this.layout.remove(done);
      removed += done.length;
      kept += old.length - done.length;
      // Past the old messages: a young one, or the end of the collection.
      if (firstYoung !== -1 || page.length < size) return { messages: removed, more: false };
    }
    return { messages: removed, more: true };
  }
}
