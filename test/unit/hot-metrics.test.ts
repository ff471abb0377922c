// The hot-path metrics are exposed exactly as prom-client's own Counter and Histogram would be.
import { Counter, Histogram, Registry } from "prom-client";
import { expect, it } from "vitest";
import { HotCounter, HotHistogram } from "../../server/telemetry/hot-metrics.js";

const BOUNDS = [0.01, 0.1, 1];
const VALUES = [0.005, 0.01, 0.05, 0.5, 0.5, 2, 30];

it("a HotHistogram's text is prom-client's Histogram's", async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const h = new HotHistogram(ours, "x_seconds", "help text", BOUNDS);
  const p = new Histogram({ name: "x_seconds", help: "help text", labelNames: ["outcome"], buckets: BOUNDS, registers: [theirs] });
  const a = h.child({ outcome: "a" });
  const b = h.child({ outcome: "b" });
  for (const v of VALUES) {
    a.observe(v);
    p.labels("a").observe(v);
  }
  b.observe(0.2);
  p.labels("b").observe(0.2);
  expect(await ours.metrics()).toBe(await theirs.metrics());
});

it("a HotCounter's counts reach the scrape, once each, and its series start at 0", async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const c = new HotCounter(ours, "y_total", "help text", ["code"]);
  const p = new Counter({ name: "y_total", help: "help text", labelNames: ["code"], registers: [theirs] });
  const ok = c.child({ code: "OK" });
  p.inc({ code: "OK" }, 0);
  c.child({ code: "INTERNAL" });
  p.inc({ code: "INTERNAL" }, 0);
  for (let i = 0; i < 3; i++) ok.inc();
  p.inc({ code: "OK" }, 3);
  expect(await ours.metrics()).toBe(await theirs.metrics());
  ok.inc();
  p.inc({ code: "OK" });
  expect(await ours.metrics()).toBe(await theirs.metrics());
});
