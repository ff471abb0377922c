// The start-up warm-up in process (server/warmup.ts): it runs Triggers and their deliveries on its private rig
// within its budget, says so in one info line, and leaves nothing behind: no listener, socket or timer of its own,
// no line of its rig's log. (What a running server shows after it, its metrics and its store, is
// test/e2e/warmup.test.ts.)
import { expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { PUBLIC_SERVICES } from "../../server/api/interceptors.js";
import { createLogger } from "../../server/telemetry/log.js";
import { warmUp } from "../../server/warmup.js";

/** The handles that would keep a process alive or hold a port: a rig left open shows here. */
function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of process.getActiveResourcesInfo()) if (/TCP|Timeout|HTTP2|Immediate/.test(h)) out[h] = (out[h] ?? 0) + 1;
  return out;
}

function collecting() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: createLogger("debug", (l) => void lines.push(JSON.parse(l) as Record<string, unknown>)) };
}

it("runs Triggers and their deliveries within its budget, logs one info line, and leaves no handle open", async () => {
  const budgetMs = 600;
  const config = loadConfig({ HOOKWIRE_WARMUP_MS: String(budgetMs), HOOKWIRE_LOG_LEVEL: "debug" });
  const { lines, log } = collecting();
  const publicBefore = [...PUBLIC_SERVICES];
  const before = handles();
  const t = performance.now();
  const report = await warmUp(config, log);
  const took = performance.now() - t;
  expect(report).toBeDefined();
  expect(report!.triggers).toBeGreaterThan(0);
  // Deliveries keep pace with the Triggers; the budget's end may cut off the last few on a busy machine.
  expect(report!.delivered).toBeGreaterThan(0);
  expect(report!.delivered).toBeLessThanOrEqual(report!.triggers);
  // The budget bounds the calls and the wait for deliveries; closing the rig comes after (a loaded CI core is slow).
  expect(took).toBeLessThan(budgetMs + 1500);
  // One line: the rig's own log (the server's level, debug here) writes nowhere.
  expect(lines).toEqual([{ time: expect.any(String), level: "info", msg: "warm-up done", ms: expect.any(Number), triggers: report!.triggers, delivered: report!.delivered, budgetMs }]);
  expect(lines[0]!.ms).toBeLessThanOrEqual(Math.ceil(took));
  expect([...PUBLIC_SERVICES]).toEqual(publicBefore);
  // None more than before (the runner's own timers may have ended meanwhile); connections close asynchronously,
  // so their handles get a moment to go.
  const extra = () => {
    const after = handles();
    return Object.keys(after).filter((k) => after[k]! > (before[k] ?? 0));
  };
  for (let i = 0; i < 20 && extra().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  expect(extra()).toEqual([]);
});

it("runs whatever connection limits the server has (its rig listens with the defaults)", async () => {
  const { lines, log } = collecting();
  const config = loadConfig({ HOOKWIRE_WARMUP_MS: "300", HOOKWIRE_MAX_CONNECTIONS: "2", HOOKWIRE_MAX_PUBLIC_STREAMS: "1", HOOKWIRE_MAX_STREAMS_PER_CONNECTION: "1" });
  const report = await warmUp(config, log);
  expect(report?.triggers).toBeGreaterThan(0);
  expect(lines.map((l) => l.msg)).toEqual(["warm-up done"]);
});

it("does nothing at 0 (HOOKWIRE_WARMUP_MS=0)", async () => {
  const { lines, log } = collecting();
  expect(await warmUp(loadConfig({ HOOKWIRE_WARMUP_MS: "0" }), log)).toBeUndefined();
  expect(lines).toEqual([]);
});

it("HOOKWIRE_WARMUP_MS: 2500 unless set, 0-60000", () => {
  expect(loadConfig({}).warmupMs).toBe(2500);
  expect(loadConfig({ HOOKWIRE_WARMUP_MS: "0" }).warmupMs).toBe(0);
  expect(() => loadConfig({ HOOKWIRE_WARMUP_MS: "60001" })).toThrow(/HOOKWIRE_WARMUP_MS: 60001 is outside 0..60000/);
  expect(() => loadConfig({ HOOKWIRE_WARMUP_MS: "1s" })).toThrow(/HOOKWIRE_WARMUP_MS: "1s" is not a whole number/);
});
