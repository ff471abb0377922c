// The one retry policy: its limits and defaults, the policy a delivery gets, and what an attempt's
// result means for it (delivered, failed, or try again after a delay). Pure: no I/O, no clock but
// the `now` given.
import { invalid } from "./errors.js";

/** How a delivery is retried: every delivery carries a complete one. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** The first retry's delay; later ones back off exponentially. */
  retryDelayMs: number;
  /** Per attempt, connect to the last byte of the answer. */
  timeoutMs: number;
}

/** What a subscription or a Send sets of its own; the rest comes from the server's defaults. */
export type PolicyOverrides = { [K in keyof RetryPolicy]?: number | undefined };

/** Inclusive bounds, the same for the server's defaults (HOOKWIRE_*) and for every request. */
export const POLICY_LIMITS = {
  retries: [0, 20],
  retryDelayMs: [10, 3_600_000],
  timeoutMs: [100, 300_000],
} as const satisfies Record<keyof RetryPolicy, readonly [number, number]>;

export const POLICY_DEFAULTS: RetryPolicy = { retries: 3, retryDelayMs: 1000, timeoutMs: 10_000 };

/** The request fields, for error messages. */
const FIELDS: Record<keyof RetryPolicy, string> = { retries: "retries", retryDelayMs: "retry_delay_ms", timeoutMs: "timeout_ms" };

/** Checks the settings that are given; unset ones stay unset. */
export function validatePolicy(input: PolicyOverrides): PolicyOverrides {
  const out: PolicyOverrides = {};
  for (const key of Object.keys(FIELDS) as Array<keyof RetryPolicy>) {
    const value = input[key];
    if (value === undefined) continue;
    const [min, max] = POLICY_LIMITS[key];
    if (!Number.isInteger(value) || value < min || value > max) throw invalid(FIELDS[key], `${value} is outside ${min}..${max}`);
    out[key] = value;
  }
  return out;
}

/** The settings given, the defaults for the rest. */
export function withDefaults(overrides: PolicyOverrides | undefined, defaults: RetryPolicy): RetryPolicy {
  return {
    retries: overrides?.retries ?? defaults.retries,
    retryDelayMs: overrides?.retryDelayMs ?? defaults.retryDelayMs,
    timeoutMs: overrides?.timeoutMs ?? defaults.timeoutMs,
  };
}

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

/** What an attempt's result means for its delivery. */
export type Verdict =
  | { outcome: "delivered" }
  /** `gone`: the endpoint answered 410, so its subscription is to be disabled. */
  | { outcome: "failed"; gone: boolean }
  | { outcome: "retry"; afterMs: number };

/** Only 2xx delivers; 410 ends the delivery at once; anything else is retried while retries are left. */
export function classify(
  policy: RetryPolicy,
  attemptsMade: number,
  result: { statusCode: number; retryAfter?: string | undefined },
  random?: () => number,
): Verdict {
  if (result.statusCode >= 200 && result.statusCode < 300) return { outcome: "delivered" };
  if (result.statusCode === 410) return { outcome: "failed", gone: true };
  const afterMs = nextDelayMs(policy, attemptsMade, result.statusCode, result.retryAfter, random);
  return afterMs === undefined ? { outcome: "failed", gone: false } : { outcome: "retry", afterMs };
}

/**
 * When Hookwire stops an endpoint that keeps failing: every attempt failed for `failingForMs` (0:
 * never) and at least `minFailures` of them, so a burst of failures right after a success, or an
 * endpoint tried only once in days, is not enough. Like Svix's five days.
 */
export interface DisableRule {
  failingForMs: number;
  minFailures: number;
}

export const DISABLE_DEFAULTS: DisableRule = { failingForMs: 5 * 24 * 60 * 60 * 1000, minFailures: 10 };

/** Inclusive bounds for HOOKWIRE_DISABLE_AFTER_MS and HOOKWIRE_DISABLE_MIN_FAILURES. */
export const DISABLE_LIMITS = {
  failingForMs: [0, 365 * 24 * 60 * 60 * 1000],
  minFailures: [1, 1_000_000],
} as const satisfies Record<keyof DisableRule, readonly [number, number]>;

/** The disabled_reason of an endpoint that answered 410 Gone. */
export const GONE_REASON = "endpoint answered 410 Gone";

/** What a failed attempt got, as health and the operational events show it. */
export function attemptError(attempt: { statusCode: number; error: string }): string {
  return attempt.statusCode > 0 ? `HTTP ${attempt.statusCode}` : attempt.error || "no response";
}

/** The disabled_reason when the endpoint's failing streak meets the rule, else undefined. */
export function failingReason(
  health: { failingSince?: Date | undefined; consecutiveFailures: number; lastError: string },
  now: number,
  rule: DisableRule,
): string | undefined {
  if (rule.failingForMs === 0 || !health.failingSince) return undefined;
  if (health.consecutiveFailures < rule.minFailures || now - health.failingSince.getTime() < rule.failingForMs) return undefined;
  return `every attempt failed since ${health.failingSince.toISOString()} (${health.consecutiveFailures} failed attempts); last error: ${health.lastError}`;
}

/** The server's default retry policy (HOOKWIRE_RETRIES, …), within the limits every request has too. */
export type DeliveryDefaults = RetryPolicy;
