// The pending gauge is counted in the store, but a scrape never waits on a slow or dead store for long:
// /metrics is most looked at when the store is in trouble.
import { expect, it } from "vitest";
import { HookwireMetrics } from "../../server/telemetry/metrics.js";

const pendingOf = (text: string) => text.split("\n").find((l) => l.startsWith("hookwire_deliveries_pending "));

it("a scrape answers within about a second when the store's count hangs, with the figure read before", async () => {
  const metrics = new HookwireMetrics({ processMetrics: false });
  let answer: ((n: number) => void) | undefined;
  let calls = 0;
  metrics.watchPending(() => {
    calls++;
    // The first count answers at once; every later one hangs, as a read of a store that died does.
    if (calls === 1) return Promise.resolve(7);
    return new Promise<number>((resolve) => (answer = resolve));
  });
  expect(pendingOf(await metrics.text())).toBe("hookwire_deliveries_pending 7");
  // Past the refresh interval the next scrape starts a read that never comes back.
  const realNow = Date.now;
  Date.now = () => realNow() + 60_000;
  try {
    const started = realNow();
    const text = await metrics.text();
    expect(realNow() - started).toBeLessThan(3000);
    expect(pendingOf(text)).toBe("hookwire_deliveries_pending 7");
  } finally {
    Date.now = realNow;
    answer?.(0);
  }
  expect(calls).toBe(2);
});
