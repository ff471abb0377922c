// The one retry policy (server/domain/policy.ts): limits, defaults, backoff and what a result means.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../server/config.js";
import { backoffMs, classify, nextDelayMs, POLICY_DEFAULTS, POLICY_LIMITS, retryAfterMs, validatePolicy, withDefaults } from "../server/domain/policy.js";

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
