// The engine's health recorder on the in-memory store (which passes the conformance suite): outcomes
// gathered per subscription become one change per flush, and a failed write loses nothing.
import { describe, expect, it } from "vitest";
import { HealthRecorder } from "../../server/engine/health-recorder.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { createLogger } from "../../server/telemetry/log.js";
import { systemClock, type HealthChange, type HealthLog, type SubscriptionHealth } from "../../server/ports.js";
import { MemoryDatabase, openMemoryStore } from "../../server/store/memory/memory-store.js";

const quiet = createLogger("error", () => undefined);
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

function setup(failWrites = 0) {
  const store = openMemoryStore(new MemoryDatabase(), { holdMs: 1000 }).health;
  const writes: HealthChange[][] = [];
  let failing = failWrites;
  const log: HealthLog = {
    ...store,
    get: (tenant, ids) => store.get(tenant, ids),
    restartStreak: (tenant, id) => store.restartStreak(tenant, id),
    drop: (tenant, id) => store.drop(tenant, id),
    async add(changes) {
      writes.push(structuredClone(changes));
      if (failing-- > 0) throw new Error("store down");
      return store.add(changes);
    },
  };
  const judged: Array<[string, SubscriptionHealth]> = [];
  const rec = new HealthRecorder({ store: log, clock: systemClock, log: quiet, onFailing: (_t, id, h) => judged.push([id, h]) }, 20);
  return { rec, store, writes, judged };
}

describe("the health recorder", () => {
  it("writes many attempts of a subscription as one change per flush, and reports the ones left failing", async () => {
    const { rec, store, writes, judged } = setup();
    rec.note("acme", "sub_a", t(1), false, "HTTP 500");
    rec.note("acme", "sub_a", t(2), true, "");
    rec.note("acme", "sub_a", t(3), false, "HTTP 502");
    rec.note("acme", "sub_a", t(4), false, "HTTP 503");
    rec.note("acme", "sub_b", t(1), true, "");
    await rec.drain(Date.now() + 2000);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.find((c) => c.subscriptionId === "sub_a")).toMatchObject({ succeeded: 1, failed: 3, cleared: true, streakFailures: 2, streakSince: t(3), lastError: "HTTP 503" });
    expect(judged.map(([id]) => id)).toEqual(["sub_a"]);
    expect((await store.get("acme", ["sub_a"])).get("sub_a")).toMatchObject({ attemptsFailed: 3, consecutiveFailures: 2, failingSince: t(3) });
  });

  it("counts a finished delivery once by its outcome, in the hour it is written: a success on the third attempt is one success", async () => {
    const { rec, store, writes } = setup(1);
    rec.note("acme", "sub_a", t(1), false, "HTTP 503");
    rec.note("acme", "sub_a", t(2), false, "HTTP 503");
    rec.note("acme", "sub_a", t(3), true, "");
    rec.finished("acme", "sub_a", true);
    await rec.flush(); // fails: kept, and merged with the failed delivery after it
    rec.note("acme", "sub_a", t(4), false, "HTTP 500");
    rec.finished("acme", "sub_a", false);
    await rec.drain(Date.now() + 2000);
    const hour = Math.floor(Date.now() / 3_600_000);
    expect(writes.at(-1)!.find((c) => c.subscriptionId === "sub_a")).toMatchObject({ deliveriesSucceeded: 1, deliveriesFailed: 1, hour });
    expect((await store.get("acme", ["sub_a"])).get("sub_a")).toMatchObject({ attemptsSucceeded: 1, attemptsFailed: 3, recentDeliveriesSucceeded: 1, recentDeliveriesFailed: 1 });
  });

  it("keeps a change whose write failed and merges it with what came meanwhile", async () => {
    const { rec, store, writes } = setup(1);
    rec.note("acme", "sub_a", t(1), false, "HTTP 500");
    rec.note("acme", "sub_a", t(2), false, "HTTP 500");
    await rec.flush(); // fails: kept
    rec.note("acme", "sub_a", t(3), true, "");
    rec.note("acme", "sub_a", t(4), false, "timed out after 100 ms");
    await rec.drain(Date.now() + 2000);
    expect(writes).toHaveLength(2);
    expect((await store.get("acme", ["sub_a"])).get("sub_a")).toMatchObject({
      attemptsSucceeded: 1,
      attemptsFailed: 3,
      consecutiveFailures: 1,
      failingSince: t(4),
      lastError: "timed out after 100 ms",
    });
  });
});

describe("the health recorder's quiet interval", () => {
  function quietSetup() {
    const clock = new FakeClock();
    const store = openMemoryStore(new MemoryDatabase(), { holdMs: 1000 }).health;
    const writes: HealthChange[][] = [];
    const log: HealthLog = {
      ...store,
      get: (tenant, ids) => store.get(tenant, ids),
      restartStreak: (tenant, id) => store.restartStreak(tenant, id),
      drop: (tenant, id) => store.drop(tenant, id),
      async add(changes) {
        writes.push(structuredClone(changes));
        return store.add(changes);
      },
    };
    const rec = new HealthRecorder({ store: log, clock, log: quiet, onFailing: () => undefined }, 1000, 10_000);
    const written = () => writes.flat().map((c) => `${c.subscriptionId} +${c.succeeded}/-${c.failed}`);
    return { rec, clock, store, written };
  }

  it("writes a subscription that keeps succeeding once per quiet interval, with every attempt counted", async () => {
    const { rec, clock, store, written } = quietSetup();
    rec.note("acme", "sub_a", t(1), true, "");
    await clock.advance(1000);
    expect(written()).toEqual(["sub_a +1/-0"]); // the first this process sees: at once
    for (let i = 0; i < 5; i++) {
      rec.note("acme", "sub_a", t(2 + i), true, "");
      await clock.advance(1000);
    }
    expect(written()).toEqual(["sub_a +1/-0"]); // gathered, not written, within the quiet interval
    await clock.advance(5000);
    expect(written()).toEqual(["sub_a +1/-0", "sub_a +5/-0"]);
    expect((await store.get("acme", ["sub_a"])).get("sub_a")).toMatchObject({ attemptsSucceeded: 6, lastSuccessAt: t(6) });
  });

  it("writes a failure, and the success after it, at the next flush even within the quiet interval", async () => {
    const { rec, clock, store, written } = quietSetup();
    rec.note("acme", "sub_a", t(1), true, "");
    await clock.advance(1000);
    rec.note("acme", "sub_a", t(2), true, "");
    rec.note("acme", "sub_a", t(3), false, "HTTP 500");
    await clock.advance(1000);
    expect(written()).toEqual(["sub_a +1/-0", "sub_a +1/-1"]);
    expect((await store.get("acme", ["sub_a"])).get("sub_a")).toMatchObject({ consecutiveFailures: 1 });
    rec.note("acme", "sub_a", t(4), true, "");
    await clock.advance(1000);
    expect(written()).toEqual(["sub_a +1/-0", "sub_a +1/-1", "sub_a +1/-0"]);
    expect((await store.get("acme", ["sub_a"])).get("sub_a")).toMatchObject({ consecutiveFailures: 0, failingSince: undefined });
  });

  it("writes what the quiet interval holds back when it drains at shutdown", async () => {
    const { rec, clock, store, written } = quietSetup();
    rec.note("acme", "sub_a", t(1), true, "");
    await clock.advance(1000);
    rec.note("acme", "sub_a", t(2), true, "");
    rec.note("acme", "sub_b", t(2), true, "");
    await clock.advance(1000);
    expect(written()).toEqual(["sub_a +1/-0", "sub_b +1/-0"]);
    await rec.drain(Date.now() + 2000);
    expect(written()).toEqual(["sub_a +1/-0", "sub_b +1/-0", "sub_a +1/-0"]);
    expect((await store.get("acme", ["sub_a"])).get("sub_a")).toMatchObject({ attemptsSucceeded: 2 });
  });

  it("writes at most ten clean successes a flush once their quiet intervals are over, those written longest ago first", async () => {
    const { rec, clock, written } = quietSetup();
    const ids = Array.from({ length: 100 }, (_, i) => `sub_${i}`);
    for (const id of ids) rec.note("acme", id, t(1), true, "");
    await clock.advance(1000);
    expect(written()).toHaveLength(100); // the first this process sees of each: at once
    // Every subscription keeps succeeding; each flush's writes are counted.
    const perFlush: number[] = [];
    for (let s = 0; s < 19; s++) {
      const before = written().length;
      for (const id of ids) rec.note("acme", id, t(2 + s), true, "");
      await clock.advance(1000);
      perFlush.push(written().length - before);
    }
    expect(perFlush.slice(0, 9).every((n) => n === 0)).toBe(true); // within the 10 s quiet interval
    expect(Math.max(...perFlush)).toBe(10);
    // Ten flushes of ten: all 100 written again, each once (none twice while another waited its turn).
    const counts = new Map<string, number>();
    for (const w of written()) counts.set(w.split(" ")[0]!, (counts.get(w.split(" ")[0]!) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 2)).toBe(true);
    // A failure is not held back by the budget: written at the next flush.
    const before = written().length;
    rec.note("acme", "sub_7", t(40), false, "HTTP 500");
    await clock.advance(1000);
    expect(written().slice(before).filter((w) => /^sub_7 \+\d+\/-1$/.test(w))).toHaveLength(1);
  });
});
