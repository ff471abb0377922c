// A token bucket: `rate` tokens a second, holding at most `burst`. Refill is computed from the time of
// the last take, so an idle bucket costs nothing and needs no timer.

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(rate > 0) || !(burst >= 1)) throw new RangeError(`token bucket: rate ${rate} must be above 0 and burst ${burst} at least 1`);
    this.tokens = burst;
    this.at = now();
  }

  /** Takes one token: answers 0 when it was there, else the milliseconds until one will be (nothing is taken). */
  take(): number {
    const now = this.now();
    // A clock that steps back refills nothing rather than draining the bucket.
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.at) * this.rate) / 1000);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }
}
