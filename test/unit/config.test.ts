// loadConfig's refusals: each bad setting is one ConfigError naming the variable (the process prints it as
// one line and exits 2: test/e2e/lifecycle.test.ts spawns it once).
import { availableParallelism } from "node:os";
import { expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/config.js";

const BASE = { HOOKWIRE_API_KEYS: "acme:acme-key-0123456789" };

it.each([
  [{ HOOKWIRE_PORT: "eighty" }, /HOOKWIRE_PORT: "eighty" is not a whole number/],
  [{ HOOKWIRE_PORT: "70000" }, /HOOKWIRE_PORT: 70000 is outside/],
  [{ HOOKWIRE_WORKERS: "0" }, /HOOKWIRE_WORKERS: 0 is outside 1\.\.256/],
  [{ HOOKWIRE_WORKERS: "two" }, /HOOKWIRE_WORKERS: "two" is not a whole number/],
  [{ HOOKWIRE_MAX_HEAP_MB: "64" }, /HOOKWIRE_MAX_HEAP_MB: 64 is outside 128\.\.65536/],
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
  [{ HOOKWIRE_PORTAL_ORIGINS: "https://app.example.com,ftp://files.example.com" }, /HOOKWIRE_PORTAL_ORIGINS: "ftp:\/\/files.example.com" is not an http\(s\) origin/],
  [{ HOOKWIRE_PORTAL_ORIGINS: "https://app.example.com/settings" }, /HOOKWIRE_PORTAL_ORIGINS: "https:\/\/app.example.com\/settings" is not an http\(s\) origin/],
  [{ HOOKWIRE_PORTAL_ORIGINS: "app.example.com" }, /HOOKWIRE_PORTAL_ORIGINS: "app.example.com" is not/],
  [{ HOOKWIRE_PORTAL_ORIGINS: "https://*.example.com" }, /HOOKWIRE_PORTAL_ORIGINS: "https:\/\/\*.example.com" is not/],
  [{ HOOKWIRE_PORTAL_ORIGINS: "https://a;b.example.com" }, /HOOKWIRE_PORTAL_ORIGINS: "https:\/\/a;b.example.com" is not/],
  [{ HOOKWIRE_PORTAL_ORIGINS: "https://user@app.example.com" }, /HOOKWIRE_PORTAL_ORIGINS: .* is not/],
  [{ HOOKWIRE_PORTAL_ORIGINS: "https://app.example.com?x" }, /HOOKWIRE_PORTAL_ORIGINS: .* is not/],
  [{ HOOKWIRE_PORTAL_ORIGINS: "null" }, /HOOKWIRE_PORTAL_ORIGINS: "null" is not/],
  [{ OTEL_TRACES_EXPORTER: "zipkin" }, /OTEL_TRACES_EXPORTER: "zipkin" is not supported; use otlp/],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }, /OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" is not an http/],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, /OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported; use http\/protobuf/],
  [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" }, /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc"/],
  [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "sometimes" }, /OTEL_TRACES_SAMPLER: "sometimes" is not one of always_on/],
  [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" }, /OTEL_TRACES_SAMPLER_ARG: "2" is not a ratio/],
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

it("HOOKWIRE_PORTAL_ORIGINS: each origin as the browser serializes it, once; none when unset", () => {
  expect(loadConfig(BASE).portalOrigins).toEqual([]);
  expect(
    loadConfig({ ...BASE, HOOKWIRE_PORTAL_ORIGINS: " https://App.Example.com/ , http://127.0.0.1:3000,https://app.example.com:443,http://[::1]:8081" }).portalOrigins,
  ).toEqual(["https://app.example.com", "http://127.0.0.1:3000", "http://[::1]:8081"]);
});

it("HOOKWIRE_WORKERS: one per core by default, one core left to the embedded FerretDB when it runs here", () => {
  const cores = availableParallelism();
  expect(loadConfig({}).workers).toBe(Math.max(1, cores - 1));
  expect(loadConfig({ MONGODB_URI: "mongodb://127.0.0.1:27017" }).workers).toBe(cores);
  expect(loadConfig({ HOOKWIRE_WORKERS: "3" }).workers).toBe(3);
});

it.each([
  [{}, undefined],
  [{ OTEL_SERVICE_NAME: "hookwire" }, undefined],
  [{ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }, undefined],
  [{ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }, undefined],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }, { protocol: "http/protobuf" }],
  [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" }, { protocol: "http/protobuf" }],
  [{ OTEL_TRACES_EXPORTER: "otlp" }, { protocol: "http/protobuf" }],
  [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }, { protocol: "http/json" }],
  [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json" }, { protocol: "http/json" }],
])("traces are on only when OTEL_* asks for them: %o", (env, tracing) => {
  expect(loadConfig({ ...BASE, ...env }).tracing).toEqual(tracing);
});
