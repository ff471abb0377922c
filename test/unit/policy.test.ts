// The one retry policy (server/domain/policy.ts): limits, defaults, backoff and what a result means.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import {
  attemptError,
  backoffMs,
  classify,
  DISABLE_DEFAULTS,
  failingReason,
  nextDelayMs,
  POLICY_DEFAULTS,
  POLICY_LIMITS,
  retryAfterMs,
  validatePolicy,
  withDefaults,
} from "../../server/domain/policy.js";
import { DELIVERY_EXHAUSTED, ENDPOINT_DISABLED } from "../../server/domain/operational-events.js";
import { eventMatches, validateCallerEvent } from "../../server/domain/validation.js";
import { QUOTA_DEFAULTS } from "../../server/usecases/quotas.js";

describe("retry policy", () => {
  const policy = { retries: 3, retryDelayMs: 1000, timeoutMs: 10_000 };
  it("backs off exponentially with ±20 % jitter", () => {
    expect(backoffMs(policy, 1, () => 0.5)).toBe(1000);
    expect(backoffMs(policy, 2, () => 0.5)).toBe(2000);
    expect(backoffMs(policy, 3, () => 0)).toBe(3200);
    expect(backoffMs(policy, 3, () => 1)).toBe(4800);
    expect(backoffMs({ ...policy, retryDelayMs: 3_600_000 }, 5, () => 0.5)).toBe(3_600_000);
  });

  it("stops after the last retry", () => {
    expect(nextDelayMs(policy, 3, 500, undefined, () => 0.5)).toBe(4000);
    expect(nextDelayMs(policy, 4, 500, undefined)).toBeUndefined();
    expect(nextDelayMs({ ...policy, retries: 0 }, 1, 500, undefined)).toBeUndefined();
  });

  it("honours Retry-After on 429 and 503 only, within the cap", () => {
    expect(nextDelayMs(policy, 1, 429, "30", () => 0.5)).toBe(30_000);
    expect(nextDelayMs(policy, 1, 503, "0", () => 0.5)).toBe(1000);
    expect(nextDelayMs(policy, 1, 500, "30", () => 0.5)).toBe(1000);
    expect(retryAfterMs("999999")).toBe(3_600_000);
    expect(retryAfterMs(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(retryAfterMs("soon")).toBeUndefined();
  });

  it("classifies a result: 2xx delivers, 410 fails at once (gone), the rest retries until the retries are spent", () => {
    const half = () => 0.5;
    expect(classify(policy, 1, { statusCode: 204 })).toEqual({ outcome: "delivered" });
    expect(classify(policy, 1, { statusCode: 410 })).toEqual({ outcome: "failed", gone: true });
    expect(classify(policy, 1, { statusCode: 0 }, half)).toEqual({ outcome: "retry", afterMs: 1000 });
    expect(classify(policy, 2, { statusCode: 302 }, half)).toEqual({ outcome: "retry", afterMs: 2000 });
    expect(classify(policy, 1, { statusCode: 429, retryAfter: "7" }, half)).toEqual({ outcome: "retry", afterMs: 7000 });
    expect(classify(policy, 4, { statusCode: 500 })).toEqual({ outcome: "failed", gone: false });
  });
});

describe("limits and defaults", () => {
  it("are the same for the server's settings and for requests (the smallest retry delay is 10 ms for both)", () => {
    expect(() => validatePolicy({ retryDelayMs: 9 })).toThrow(/^retry_delay_ms: 9 is outside 10\.\.3600000$/);
    expect(() => loadConfig({ HOOKWIRE_RETRY_DELAY_MS: "9" })).toThrow(/^HOOKWIRE_RETRY_DELAY_MS: 9 is outside 10\.\.3600000$/);
    for (const [key, [min, max]] of Object.entries(POLICY_LIMITS)) {
      expect(validatePolicy({ [key]: min })).toEqual({ [key]: min });
      expect(validatePolicy({ [key]: max })).toEqual({ [key]: max });
    }
    expect(() => validatePolicy({ retries: 21 })).toThrow(/^retries: /);
    expect(() => validatePolicy({ timeoutMs: 99 })).toThrow(/^timeout_ms: /);
    expect(loadConfig({}).delivery).toEqual(POLICY_DEFAULTS);
  });

  it("fills what a subscription or Send leaves unset from the defaults", () => {
    expect(withDefaults({ retries: 0 }, POLICY_DEFAULTS)).toEqual({ ...POLICY_DEFAULTS, retries: 0 });
    expect(withDefaults(undefined, POLICY_DEFAULTS)).toEqual(POLICY_DEFAULTS);
    expect(validatePolicy({ retries: undefined, timeoutMs: 500 })).toEqual({ timeoutMs: 500 });
  });
});

describe("the disabling rule", () => {
  const rule = { failingForMs: 60_000, minFailures: 3 };
  const since = new Date("2026-01-01T00:00:00Z");
  const at = (ms: number) => since.getTime() + ms;
  const failing = (consecutiveFailures: number) => ({ failingSince: since, consecutiveFailures, lastError: "HTTP 500" });

  it("disables only when every attempt failed for the whole period and at least the minimum of them", () => {
    expect(failingReason(failing(3), at(59_999), rule)).toBeUndefined();
    expect(failingReason(failing(2), at(600_000), rule)).toBeUndefined();
    expect(failingReason({ consecutiveFailures: 50, lastError: "HTTP 500" }, at(600_000), rule)).toBeUndefined();
    expect(failingReason(failing(3), at(60_000), rule)).toBe("every attempt failed since 2026-01-01T00:00:00.000Z (3 failed attempts); last error: HTTP 500");
    expect(failingReason(failing(99), at(10 ** 9), { ...rule, failingForMs: 0 })).toBeUndefined(); // 0: never
  });

  it("defaults to five days and ten failures, configured within bounds (a bad value names the variable)", () => {
    expect(DISABLE_DEFAULTS).toEqual({ failingForMs: 432_000_000, minFailures: 10 });
    expect(loadConfig({}).disable).toEqual(DISABLE_DEFAULTS);
    expect(loadConfig({ HOOKWIRE_DISABLE_AFTER_MS: "0", HOOKWIRE_DISABLE_MIN_FAILURES: "1" }).disable).toEqual({ failingForMs: 0, minFailures: 1 });
    expect(() => loadConfig({ HOOKWIRE_DISABLE_MIN_FAILURES: "0" })).toThrow(/^HOOKWIRE_DISABLE_MIN_FAILURES: 0 is outside 1\.\.1000000$/);
    expect(() => loadConfig({ HOOKWIRE_DISABLE_AFTER_MS: "5d" })).toThrow(/^HOOKWIRE_DISABLE_AFTER_MS: "5d" is not a whole number$/);
  });

  it("names what a failed attempt got", () => {
    expect(attemptError({ statusCode: 503, error: "" })).toBe("HTTP 503");
    expect(attemptError({ statusCode: 0, error: "timed out after 100 ms" })).toBe("timed out after 100 ms");
  });
});

describe("operational events", () => {
  it("are Hookwire's own: '*' does not match them, 'hookwire.*' and their names do", () => {
    expect(eventMatches(["*"], "order.created")).toBe(true);
    expect(eventMatches(["*"], ENDPOINT_DISABLED)).toBe(false);
    expect(eventMatches(["*", "hookwire.*"], DELIVERY_EXHAUSTED)).toBe(true);
    expect(eventMatches(["hookwire.endpoint.disabled"], ENDPOINT_DISABLED)).toBe(true);
    expect(eventMatches(["hookwire.endpoint.disabled"], DELIVERY_EXHAUSTED)).toBe(false);
    expect(() => validateCallerEvent("hookwire.x")).toThrow(/^event: /);
    expect(() => validateCallerEvent("HookWire.x", "payload.event")).toThrow(/^payload\.event: /);
    expect(validateCallerEvent("hookwires.x")).toBe("hookwires.x");
  });
});

// The quotas' settings are read with the rest of the configuration; the rule itself is server/usecases/quotas.ts.
describe("quota settings", () => {
  it("default generously, follow the rate with the burst unless set, and name the variable of a bad value", () => {
    expect(loadConfig({}).quotas).toEqual({ maxSubscriptions: 250_000, maxSubscriptionsPerOwner: 100, maxEventsPerSubscription: 64, maxEventTypes: 10_000, maxWatchesPerTenant: 32, triggerRate: 10_000, triggerBurst: 10_000 });
    expect(loadConfig({}).quotas).toEqual(QUOTA_DEFAULTS);
    expect(loadConfig({ HOOKWIRE_MAX_SUBSCRIPTIONS: "3", HOOKWIRE_MAX_SUBSCRIPTIONS_PER_OWNER: "4", HOOKWIRE_MAX_EVENTS_PER_SUBSCRIPTION: "2", HOOKWIRE_MAX_EVENT_TYPES: "5", HOOKWIRE_MAX_WATCHES_PER_TENANT: "1", HOOKWIRE_TRIGGER_RATE: "50" }).quotas).toEqual({
      maxSubscriptions: 3,
      maxSubscriptionsPerOwner: 4,
      maxEventsPerSubscription: 2,
      maxEventTypes: 5,
      maxWatchesPerTenant: 1,
      triggerRate: 50,
      triggerBurst: 50,
    });
    expect(loadConfig({ HOOKWIRE_TRIGGER_RATE: "5", HOOKWIRE_TRIGGER_BURST: "20" }).quotas).toMatchObject({ triggerRate: 5, triggerBurst: 20 });
    // 0: no rate limit; the burst then means nothing but stays valid.
    expect(loadConfig({ HOOKWIRE_TRIGGER_RATE: "0" }).quotas).toMatchObject({ triggerRate: 0, triggerBurst: 1 });
    expect(() => loadConfig({ HOOKWIRE_MAX_SUBSCRIPTIONS: "0" })).toThrow(/^HOOKWIRE_MAX_SUBSCRIPTIONS: 0 is outside 1\.\.100000000$/);
    expect(() => loadConfig({ HOOKWIRE_MAX_SUBSCRIPTIONS_PER_OWNER: "0" })).toThrow(/^HOOKWIRE_MAX_SUBSCRIPTIONS_PER_OWNER: 0 is outside 1\.\.100000000$/);
    expect(() => loadConfig({ HOOKWIRE_MAX_SUBSCRIPTIONS: "lots" })).toThrow(/^HOOKWIRE_MAX_SUBSCRIPTIONS: "lots" is not a whole number$/);
    expect(() => loadConfig({ HOOKWIRE_MAX_EVENTS_PER_SUBSCRIPTION: "1025" })).toThrow(/^HOOKWIRE_MAX_EVENTS_PER_SUBSCRIPTION: 1025 is outside 1\.\.1024$/);
    expect(() => loadConfig({ HOOKWIRE_MAX_WATCHES_PER_TENANT: "-1" })).toThrow(/^HOOKWIRE_MAX_WATCHES_PER_TENANT: "-1" is not a whole number$/);
    expect(() => loadConfig({ HOOKWIRE_TRIGGER_RATE: "1.5" })).toThrow(/^HOOKWIRE_TRIGGER_RATE: "1.5" is not a whole number$/);
    expect(() => loadConfig({ HOOKWIRE_TRIGGER_BURST: "0" })).toThrow(/^HOOKWIRE_TRIGGER_BURST: 0 is outside 1\.\.10000000$/);
  });
});
