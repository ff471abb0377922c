// The scheduler's pacing of rate-limited lines, on a fake clock: starts follow the tokens, a paced line
// sets one timer to its next token (no spinning) and keeps no other line waiting.
import { expect, it } from "vitest";
import { Scheduler, type Scheduled, type SchedulerLimits } from "../../server/engine/scheduler.js";
import { FakeClock } from "../helpers/fake-clock.js";

interface Item extends Scheduled {
  n: number;
}

const LIMITS: SchedulerLimits = { maxInFlight: 64, maxInFlightPerTenant: 64, maxInFlightPerEndpoint: 8 };

/** Every promise chain the scheduler's timers set off has run: no real I/O here, so no sleeping. */
const drained = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A scheduler whose attempts last `attemptMs` of fake time and, for lines in `rates`, report the line's
 * rate when they start, as a prepared attempt does (a line not in it never learns its rate).
 */
function rig(rates: Record<string, number>, attemptMs = 10, limits = LIMITS) {
  const clock = new FakeClock(drained);
  const t0 = clock.now();
  const starts: Array<{ line: string; at: number }> = [];
  const scheduler: Scheduler<Item> = new Scheduler<Item>(limits, clock, (item) => {
    starts.push({ line: item.endpoint, at: clock.now() - t0 });
    const rate = rates[item.endpoint];
    if (rate !== undefined) scheduler.pace(item, rate);
    return new Promise<void>((resolve) => clock.setTimeout(resolve, attemptMs));
  });
  let n = 0;
  const add = (line: string, count: number, paced = true) => {
    for (let i = 0; i < count; i++) scheduler.after({ endpoint: line, tenant: "acme", paced, timer: undefined, n: n++ }, 0);
  };
  const of = (line: string) => starts.filter((s) => s.line === line).map((s) => s.at);
  return { clock, scheduler, starts, add, of };
}

it("a line limited to 10 a second starts one attempt every 100 ms; an unlimited line beside it is not held back", async () => {
  const r = rig({ slow: 10, fast: 0 });
  r.add("slow", 30);
  r.add("fast", 30);
  await r.clock.advance(0);
  // The first attempt learns the limit; the unlimited line starts what its in-flight limit allows at once.
  expect(r.of("slow")).toEqual([0]);
  expect(r.of("fast")).toHaveLength(8);
  await r.clock.advance(1050);
  expect(r.of("fast")).toHaveLength(30);
  expect(Math.max(...r.of("fast"))).toBeLessThanOrEqual(40); // 30 at 8 at a time, 10 ms each
  expect(r.of("slow")).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  // Waiting for its token, the line holds one timer, not a loop of them.
  expect(r.clock.pending).toBe(1);
  await r.clock.advance(1950);
  expect(r.of("slow")).toHaveLength(30);
  expect(r.of("slow").at(-1)).toBe(2900);
  await r.clock.advance(1000);
  expect(r.clock.pending).toBe(0);
});

it("until an attempt has read its line's limit, the line starts one attempt at a time", async () => {
  const r = rig({});
  r.add("unread", 5);
  await r.clock.advance(25);
  expect(r.of("unread")).toEqual([0, 10, 20]);
});

it("a high limit starts a burst per token wait, not one start per timer", async () => {
  const r = rig({ busy: 1000 }, 5, { ...LIMITS, maxInFlightPerEndpoint: 1000 });
  r.add("busy", 500);
  await r.clock.advance(0);
  // 1000 a second: a burst of 20 (20 ms worth), then one a millisecond.
  expect(r.of("busy")).toHaveLength(20);
  await r.clock.advance(100);
  const started = r.of("busy").length;
  expect(started).toBeGreaterThanOrEqual(119);
  expect(started).toBeLessThanOrEqual(121);
});

it("a line made again after it ran empty keeps its bucket: no fresh burst", async () => {
  const r = rig({ again: 2 }, 1);
  r.add("again", 1);
  await r.clock.advance(50); // started and ended: the line is gone, its bucket is not
  r.add("again", 1);
  await r.clock.advance(0);
  expect(r.of("again")).toEqual([0]);
  await r.clock.advance(500);
  expect(r.of("again")).toEqual([0, 500]);
});

it("a limit lifted or changed applies from the line's next start", async () => {
  const rates: Record<string, number> = { line: 1 };
  const r = rig(rates, 10);
  r.add("line", 20);
  await r.clock.advance(1500);
  expect(r.of("line")).toEqual([0, 1000]);
  rates.line = 0; // the next attempt reads no limit: the rest start at the in-flight limit
  await r.clock.advance(500);
  expect(r.of("line").filter((at) => at === 2000)).toHaveLength(8);
  await r.clock.advance(100);
  expect(r.of("line")).toHaveLength(20);
});

it("a Send's line is never paced and starts at its in-flight limit at once", async () => {
  const r = rig({ send: 1 });
  r.add("send", 10, false);
  await r.clock.advance(0);
  expect(r.of("send")).toHaveLength(8);
});

it("a stopped scheduler clears the timers of paced lines", async () => {
  const r = rig({ slow: 1 });
  r.add("slow", 3);
  await r.clock.advance(20);
  expect(r.clock.pending).toBe(1);
  r.scheduler.stop();
  expect(r.clock.pending).toBe(0);
});

it("under a full tenant limit, a line waiting for its token takes no slot the others could use, and keeps its rate", async () => {
  const r = rig({ slow: 20, fast: 0 }, 10, { ...LIMITS, maxInFlightPerTenant: 2 });
  r.add("slow", 10);
  r.add("fast", 40);
  await r.clock.advance(300);
  // Two slots: the fast line has every one the slow line is not using (40 at 2 at a time, 10 ms each, one
  // slot taken by the slow line's first attempt for 10 ms), and never waits for a token.
  expect(r.of("fast")).toHaveLength(40);
  expect(Math.max(...r.of("fast"))).toBeLessThanOrEqual(200);
  await r.clock.advance(1000);
  // Held back by the tenant's limit it waits its turn like any line; it never goes faster than 20 a second.
  const slow = r.of("slow");
  expect(slow).toHaveLength(10);
  for (let i = 1; i < slow.length; i++) expect(slow[i]! - slow[i - 1]!).toBeGreaterThanOrEqual(50);
});
