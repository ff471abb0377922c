// When to try again: exponential backoff with jitter, Retry-After within a cap.
import type { DeliveryDefaults } from "../config.js";

export type RetryPolicy = DeliveryDefaults;

/** No backoff step grows past this, however many retries a policy allows. */
export const MAX_BACKOFF_MS = 60 * 60 * 1000;
/** A Retry-After longer than this is cut to it. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;
/** Jitter spreads retries of many deliveries that failed together: each delay is scaled by 0.8 to 1.2. */
export const JITTER = 0.2;

/** Delay before retry number `retry` (1 for the first retry). */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const base = Math.min(policy.retryDelayMs * 2 ** (retry - 1), MAX_BACKOFF_MS);
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

/** Retry-After as milliseconds (delta-seconds or an HTTP date), capped; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  let ms: number;
  if (/^\d+$/.test(value)) ms = Number(value) * 1000;
  else {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** The delay before the next attempt, or undefined when no attempt is left. */
export function nextDelayMs(
  policy: RetryPolicy,
  attemptsMade: number,
  statusCode: number,
  retryAfter: string | undefined,
  random?: () => number,
): number | undefined {
  if (attemptsMade > policy.retries) return undefined;
  const backoff = backoffMs(policy, attemptsMade, random);
  if (statusCode === 429 || statusCode === 503) {
    const asked = retryAfterMs(retryAfter);
    if (asked !== undefined) return Math.max(backoff, asked);
  }
  return backoff;
}
