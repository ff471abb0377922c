// The rate limits a cluster's workers share (server/cluster/shared-pacer.ts): workers ask the primary's one
// bucket per line for tokens; together they start no more than the line's rate, and none is starved.
import { expect, it } from "vitest";
import { PaceGrants, SharedPacer } from "../../server/cluster/shared-pacer.js";
import type { ToPrimary } from "../../server/cluster/messages.js";

/** Workers and their primary on one simulated clock; a message arrives at the next step. */
function clusterOf(workers: number) {
  let now = 0;
  const timers: Array<{ at: number; run: () => void }> = [];
  const grants = new PaceGrants(
    () => now,
    (run, ms) => void timers.push({ at: now + ms, run }),
  );
  const inbox: Array<{ to: SharedPacer; m: unknown }> = [];
  const pacers: SharedPacer[] = [];
  for (let i = 0; i < workers; i++) {
    const pacer: SharedPacer = new SharedPacer(
      (m: ToPrimary) => expect(grants.request(m, (answer) => inbox.push({ to: pacer, m: answer }))).toBe(true),
      () => now,
    );
    pacers.push(pacer);
  }
  return {
    pacers,
    /** Fires the primary's timers that are due, delivers what is on its way, then moves the clock. */
    step(ms: number) {
      for (const t of timers.filter((x) => x.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.run();
      }
      for (const { to, m } of inbox.splice(0)) expect(to.receive(m)).toBe(true);
      now += ms;
    },
  };
}

it("a worker's first take asks the primary and waits; the token it is granted starts the next", () => {
  const c = clusterOf(1);
  const [p] = c.pacers;
  expect(p!.take("line", 10)).toBeGreaterThan(0);
  expect(p!.take("line", 10)).toBeGreaterThan(0); // asked already: still waiting
  c.step(1);
  expect(p!.take("line", 10)).toBe(0);
  expect(p!.known("line")).toBe(10);
  expect(p!.receive({ type: "something else" })).toBe(false);
});

it("two workers taking as fast as they can start the line's rate in all, both of them some", () => {
  const c = clusterOf(2);
  const started = [0, 0];
  const nextLook = [0, 0];
  for (let t = 0; t < 10_000; t++) {
    c.pacers.forEach((p, i) => {
      if (t < nextLook[i]!) return;
      const wait = p.take("line", 10);
      if (wait === 0) started[i]!++;
      nextLook[i] = t + Math.max(1, wait);
    });
    c.step(1);
  }
  const total = started[0]! + started[1]!;
  // 10 a second for 10 s, plus the first burst (one token at this rate).
  expect(total).toBeGreaterThanOrEqual(99);
  expect(total).toBeLessThanOrEqual(101);
  // First asked, first served: the workers take turns.
  expect(Math.min(...started)).toBeGreaterThanOrEqual(45);
});

it("an attempt that started before its line's rate was known is charged: the next grant pays it", () => {
  const c = clusterOf(1);
  const [p] = c.pacers;
  p!.charge("line", 1);
  c.step(1); // the charge's token arrives and is spent on the debt
  expect(p!.take("line", 1)).toBeGreaterThan(0);
  c.step(1);
  // The bucket (1 a second, burst 1) was emptied by the charge: the next token is about a second away.
  expect(p!.take("line", 1)).toBeGreaterThan(900);
  for (let t = 0; t < 1000; t++) c.step(1);
  expect(p!.take("line", 1)).toBe(0);
});
