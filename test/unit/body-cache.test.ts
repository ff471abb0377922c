// The engine's body cache: bounded by bytes, most recently used kept, one read per body at a time.
import { expect, it } from "vitest";
import { BodyCache } from "../../server/engine/body-cache.js";

it("keeps the most recently used bodies within its byte budget and reads the rest again", async () => {
  const reads: string[] = [];
  const store = new Map([...Array(10).keys()].map((i) => [`m${i}`, String(i).repeat(100)]));
  const cache = new BodyCache(async (id) => (reads.push(id), store.get(id)), 600); // room for three 200-byte bodies
  for (let i = 0; i < 10; i++) expect(await cache.get(`m${i}`)).toBe(store.get(`m${i}`));
  expect(cache.size).toEqual({ entries: 3, bytes: 600 });
  expect(reads).toHaveLength(10);
  await cache.get("m9"); // cached
  await cache.get("m7"); // cached, and now the most recent
  await cache.get("m0"); // read again, evicting the least recently used (m8)
  expect(reads.slice(10)).toEqual(["m0"]);
  await cache.get("m8");
  expect(reads.slice(11)).toEqual(["m8"]);
});

it("reads a body once for concurrent callers, answers undefined for a missing message, and never keeps one over the budget", async () => {
  let reads = 0;
  // Reads wait until the test opens the gate: the three callers below all ask while the first read is under way.
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const cache = new BodyCache(async (id) => {
    reads++;
    await gate;
    return id === "big" ? "x".repeat(1000) : id === "gone" ? undefined : "body";
  }, 100);
  const asked = [cache.get("a"), cache.get("a"), cache.get("a")];
  expect(reads).toBe(1);
  open();
  const all = await Promise.all(asked);
  expect(all).toEqual(["body", "body", "body"]);
  expect(reads).toBe(1);
  expect(await cache.get("gone")).toBeUndefined();
  expect(await cache.get("big")).toHaveLength(1000);
  expect(cache.size.bytes).toBeLessThanOrEqual(100);
  cache.put("big", "x".repeat(1000));
  expect(cache.size.bytes).toBeLessThanOrEqual(100);
});
