// Facts about the embedded FerretDB that Hookwire's data model relies on, checked against the real server.
import { expect, it } from "vitest";
import { fileMongoClient } from "../helpers/mongo-client.js";

const client = fileMongoClient();

it("looks documents up by _id through SQLite's index (the patched build), not by scanning", async () => {
  const col = client.db("facts").collection<{ _id: string; n: number }>("by_id");
  await col.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: `doc_${i}`, n: i })));
  const plan = await client.db("facts").command({ explain: { find: "by_id", filter: { _id: "doc_7" } } });
  expect(JSON.stringify(plan.queryPlanner)).toMatch(/SEARCH .* USING INDEX/);
  expect(await col.findOne({ _id: "doc_7" })).toEqual({ _id: "doc_7", n: 7 });
  await col.updateOne({ _id: "doc_7" }, { $set: { n: 70 } });
  await col.deleteOne({ _id: "doc_8" });
  expect(await col.findOne({ _id: "doc_7" })).toEqual({ _id: "doc_7", n: 70 });
  expect(await col.countDocuments()).toBe(49);
});

it("reports a duplicate _id with code 11000 and the index of the failed item", async () => {
  const col = client.db("facts").collection<{ _id: string }>("dups");
  await col.insertOne({ _id: "a" });
  const err = await col.insertMany([{ _id: "b" }, { _id: "a" }, { _id: "c" }], { ordered: false }).catch((e: unknown) => e);
  const writeErrors = (err as { writeErrors?: Array<{ code: number; index: number }> }).writeErrors;
  expect(Array.isArray(writeErrors) ? writeErrors.map((w) => [w.code, w.index]) : writeErrors).toEqual([[11000, 1]]);
  expect(await col.countDocuments()).toBe(3);
});

it("takes writes from many connections at once: every one lands, duplicates still answer 11000", async () => {
  const db = client.db("facts_concurrent");
  const a = db.collection<{ _id: string; n: number; w: number }>("a");
  const b = db.collection<{ _id: string; n: number; w: number }>("b");
  await Promise.all(
    Array.from({ length: 16 }, async (_, w) => {
      const col = w % 2 === 0 ? a : b;
      for (let round = 0; round < 5; round++) {
        await col.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: `w${w}_r${round}_${i}`, n: i, w })), { ordered: false });
        await col.updateMany({ w, n: 0 }, { $set: { n: -1 } });
      }
      await col.deleteMany({ w, n: 9 });
      const dup = await col.insertMany([{ _id: `w${w}_r0_1`, n: 1, w }], { ordered: false }).catch((e: unknown) => e);
      expect((dup as { code?: number }).code).toBe(11000);
    }),
  );
  // 8 writers a collection, 5 rounds of 10 each, less each writer's 5 documents with n = 9.
  expect(await a.countDocuments()).toBe(8 * 45);
  expect(await b.countDocuments()).toBe(8 * 45);
  expect(await a.countDocuments({ n: -1 })).toBe(8 * 5);
});
