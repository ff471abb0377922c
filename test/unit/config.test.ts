// loadConfig's refusals: each bad setting is one ConfigError naming the variable (the process prints it as
// one line and exits 2: test/e2e/lifecycle.test.ts spawns it once).
import { expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/config.js";

const BASE = { HOOKWIRE_API_KEYS: "acme:acme-key-0123456789" };

it.each([
  [{ HOOKWIRE_PORT: "eighty" }, /HOOKWIRE_PORT: "eighty" is not a whole number/],
  [{ HOOKWIRE_PORT: "70000" }, /HOOKWIRE_PORT: 70000 is outside/],
  [{ HOOKWIRE_API_KEYS: "no-colon" }, /HOOKWIRE_API_KEYS: .* is not a tenant:key pair/],
  [{ HOOKWIRE_ALLOW_PRIVATE_URLS: "maybe" }, /HOOKWIRE_ALLOW_PRIVATE_URLS: "maybe" is not true or false/],
  [{ MONGODB_URI: "postgres://x" }, /MONGODB_URI: must start with/],
  [{ HOOKWIRE_RETRIES: "-1" }, /HOOKWIRE_RETRIES/],
  [{ HOOKWIRE_RETENTION: "30" }, /HOOKWIRE_RETENTION: "30" is not a duration such as 30d/],
  [{ HOOKWIRE_RETENTION: "0d" }, /HOOKWIRE_RETENTION: "0d" is not a duration/],
  [{ HOOKWIRE_RETENTION_SWEEP_MS: "10" }, /HOOKWIRE_RETENTION_SWEEP_MS: 10 is outside 100\.\.86400000/],
  [{ HOOKWIRE_MAX_EVENT_TYPES: "0" }, /HOOKWIRE_MAX_EVENT_TYPES: 0 is outside 1\.\.1000000/],
  [{ HOOKWIRE_MAX_EVENT_TYPES: "many" }, /HOOKWIRE_MAX_EVENT_TYPES: "many" is not a whole number/],
  [{ HOOKWIRE_FERRETDB_DEBUG_ADDR: "0.0.0.0:8089" }, /HOOKWIRE_FERRETDB_DEBUG_ADDR: "0.0.0.0:8089" is not a loopback address/],
])("refuses a bad setting with one line naming it: %o", (env, msg) => {
  let err: unknown;
  try {
    loadConfig({ ...BASE, ...env });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as Error).message).not.toContain("\n");
  expect((err as Error).message).toMatch(msg);
});
