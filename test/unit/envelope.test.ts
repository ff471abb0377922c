import { expect, it } from "vitest";
import { envelope } from "../../server/usecases/messages.js";

it("builds the same text JSON.stringify gives for {event, payload, timestamp}", () => {
  const ts = "2026-11-28T23:42:49.533Z";
  for (const payload of [null, 0, -1.5e-7, true, "a \"quoted\" ü 𝄞 \u2028", [], [1, { b: null }], { z: 1, a: { "k.e.y": ["x"] } }]) {
    for (const event of ["order.created", "weird\"event"]) {
      expect(envelope(event, JSON.stringify(payload), ts)).toBe(JSON.stringify({ event, payload, timestamp: ts }));
    }
  }
});
