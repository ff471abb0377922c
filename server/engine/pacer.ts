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

export class Pacer {
  /** Least recently used first. */
  private readonly lines = new Map<string, Paced>();

  /**
   * `share`: this process's part of each line's limit. Several worker processes on one host each take
   * deliveries of the same endpoint, so each paces at its share and together they never exceed the limit.
   */
  constructor(
    private readonly now: () => number,
    private readonly share = 1,
  ) {}

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
      const rate = perSecond * this.share;
      const burst = rateBurst(rate);
      paced = { perSecond, bucket: new TokenBucket(rate, burst, this.now), usedAt: now, fullAfterMs: (burst * 1000) / rate };
    }
    this.lines.delete(line);
    this.lines.set(line, paced);
    paced.usedAt = now;
    this.forgetFull(now);
    return paced.bucket.take();
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
