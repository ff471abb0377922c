// The rate limits of endpoints' lines in this process: a token bucket per limited line. A bucket is
// kept beyond its line, which ends whenever it runs empty (a line made again at once must not start
// with a full bucket), until it would be full again anyway: forgetting it then changes nothing, and
// what is kept is bounded by the limited lines used in about the last second.
import { rateBurst } from "../domain/endpoint-rate.js";
import { TokenBucket } from "../domain/token-bucket.js";

interface Paced {
  perSecond: number;
  bucket: TokenBucket;
  usedAt: number;
  /** How long after its last use the bucket is full again, at the latest. */
  fullAfterMs: number;
}

/** What the scheduler asks of the rate limits of endpoints' lines (the one process's Pacer, or a cluster's). */
export interface LinePacer {
  /** The line's limit, when known lately; undefined when not (no limit, or not lately). */
  known(line: string): number | undefined;
  /** 0 when an attempt of the line may start now (its token taken), else milliseconds to wait before asking again. */
  take(line: string, perSecond: number): number;
  /** Charges the line one token for an attempt that already started (the one that learnt the line's rate). */
  charge(line: string, perSecond: number): void;
  /** The line has no limit any more. */
  forget(line: string): void;
}

export class Pacer implements LinePacer {
  /** Least recently used first. */
  private readonly lines = new Map<string, Paced>();

  constructor(private readonly now: () => number) {}

  /** The line's limit, when this process used it lately; undefined when it does not know (no limit, or not lately). */
  known(line: string): number | undefined {
    return this.lines.get(line)?.perSecond;
  }

  /**
   * Takes one of the line's tokens at `perSecond` (above 0; a new rate starts a new bucket): answers 0
   * when the attempt may start now, else the milliseconds until the next token (nothing is taken).
   */
  take(line: string, perSecond: number): number {
    const now = this.now();
    let paced = this.lines.get(line);
    if (paced?.perSecond !== perSecond) {
      const burst = rateBurst(perSecond);
      paced = { perSecond, bucket: new TokenBucket(perSecond, burst, this.now), usedAt: now, fullAfterMs: (burst * 1000) / perSecond };
    }
    this.lines.delete(line);
    this.lines.set(line, paced);
    paced.usedAt = now;
    this.forgetFull(now);
    return paced.bucket.take();
  }

  charge(line: string, perSecond: number): void {
    this.take(line, perSecond);
  }

  /** The line has no limit any more. */
  forget(line: string): void {
    this.lines.delete(line);
  }

  /** Drops the least recently used buckets that are full again (stopping at the first that may not be). */
  private forgetFull(now: number): void {
    for (const [line, paced] of this.lines) {
      if (now - paced.usedAt < paced.fullAfterMs) return;
      this.lines.delete(line);
    }
  }
}
