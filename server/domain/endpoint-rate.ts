// A subscription's rate limit: at most so many attempts a second to its endpoint (0: none). The engine
// paces each endpoint's line with a token bucket (server/domain/token-bucket.ts) of this rate.
import { invalid } from "./errors.js";

export const RATE_LIMIT_MAX = 10_000;

/** 0 (no limit) or 1..RATE_LIMIT_MAX attempts a second. */
export function validateRateLimit(perSecond: number, field = "rate_limit_per_second"): number {
  if (!Number.isInteger(perSecond) || perSecond < 0 || perSecond > RATE_LIMIT_MAX) {
    throw invalid(field, `${perSecond} is outside 0..${RATE_LIMIT_MAX} (attempts a second; 0 for no limit)`);
  }
  return perSecond;
}

/**
 * How many attempts may start at once after a quiet spell: 20 ms worth of the rate, at least one. So any
 * second holds at most the rate and 2 % more (plus one), while a high rate is not held to one start per
 * timer tick (timers fire about once a millisecond at best).
 */
export function rateBurst(perSecond: number): number {
  return Math.max(1, Math.ceil(perSecond / 50));
}
