// The embedded FerretDB's equality pushdown (scripts/ferretdb/hookwire_pushdown.go): top-level string equality on
// an index's leading keys is answered from SQLite's index, and still matches exactly what FerretDB matches
// without it. Each query runs on an indexed collection (pushed down) and on an unindexed copy (matched in Go
// only, as upstream does), and the two answers must be the same.
import { ObjectId, type Collection, type Filter } from "mongodb";
import { expect, it } from "vitest";
import { fileMongoClient } from "../helpers/mongo-client.js";

const client = fileMongoClient();

/** Any document: _id of any type, which the driver's default Document type does not allow in filters. */
type Document = { _id: string | number | ObjectId; [field: string]: unknown };

const ESCAPED = 'x<&>\u2028"\\ \n';
const TRICKY: Document[] = [
  { _id: "plain", tenant: "t", f: "x" },
  { _id: "array-with", tenant: "t", f: ["y", "x"] },
  { _id: "array-without", tenant: "t", f: ["y"] },
  { _id: "array-of-docs", tenant: "t", f: [{ f: "x" }] },
  { _id: "empty-array", tenant: "t", f: [] },
  { _id: "missing", tenant: "t" },
  { _id: "null", tenant: "t", f: null },
  { _id: "number", tenant: "t", f: 1 },
  { _id: "number-string", tenant: "t", f: "1" },
  { _id: "bool", tenant: "t", f: true },
  { _id: "nested-doc", tenant: "t", f: { f: "x" } },
  { _id: "dotted-lookalike", tenant: "t", g: { f: "x" } },
  { _id: "case", tenant: "t", f: "X" },
  { _id: "space", tenant: "t", f: "x " },
  { _id: "empty", tenant: "t", f: "" },
  { _id: "escaped", tenant: "t", f: ESCAPED },
  { _id: "escaped-in-array", tenant: "t", f: [ESCAPED] },
  { _id: "unicode", tenant: "t", f: "é✓" },
  { _id: "objectid", tenant: "t", f: new ObjectId("0123456789abcdef01234567") },
  { _id: "objectid-hex", tenant: "t", f: "0123456789abcdef01234567" },
  { _id: "date", tenant: "t", f: new Date(1_700_000_000_000) },
  { _id: "other-tenant", tenant: "u", f: "x" },
  { _id: "tenant-array", tenant: ["u", "t"], f: "x" },
  { _id: "tenant-array-f-array", tenant: ["t"], f: ["x"] },
  { _id: "tenant-missing", f: "x" },
  { _id: "tenant-number", tenant: 7, f: "x" },
  { _id: 42, tenant: "t", f: "x" },
  { _id: new ObjectId("aaaaaaaaaaaaaaaaaaaaaaaa"), tenant: "t", f: "x" },
];

async function pair(name: string): Promise<[Collection<Document>, Collection<Document>]> {
  const db = client.db("pushdown");
  const indexed = db.collection<Document>(`${name}_indexed`);
  const plain = db.collection<Document>(`${name}_plain`);
  await indexed.createIndex({ tenant: 1, f: 1, _id: 1 });
  await indexed.createIndex({ f: -1 });
  await indexed.insertMany(TRICKY.map((d) => ({ ...d })));
  await plain.insertMany(TRICKY.map((d) => ({ ...d })));
  return [indexed, plain];
}

const FILTERS: Filter<Document>[] = [
  { f: "x" },
  { tenant: "t", f: "x" },
  { tenant: "t" },
  { tenant: "u", f: "x" },
  { f: "1" },
  { f: "" },
  { f: ESCAPED },
  { tenant: "t", f: ESCAPED },
  { f: "é✓" },
  { f: "0123456789abcdef01234567" },
  { f: "X" },
  { f: "y" },
  { tenant: "t", f: "x", _id: { $gt: "a" } },
  { tenant: "t", f: "x", g: { $exists: false } },
  { _id: "plain", f: "x" },
  { _id: "plain", f: "y" },
  { tenant: "t", f: { $in: ["x", "y"] } },
  { tenant: "t", f: "x", $or: [{ _id: "plain" }, { _id: "array-with" }] },
  { "g.f": "x" },
];

it("finds, counts, updates and deletes exactly the documents FerretDB matches without the pushdown", async () => {
  const [indexed, plain] = await pair("semantics");
  const ids = async (c: Collection<Document>, filter: Filter<Document>) =>
    (await c.find(filter).toArray()).map((d) => String(d._id)).sort();
  for (const filter of FILTERS) {
    const expected = await ids(plain, filter);
    expect({ filter, ids: await ids(indexed, filter) }).toEqual({ filter, ids: expected });
    expect(await indexed.countDocuments(filter)).toBe(expected.length);
  }
  // The cases that show the clause is a superset: arrays holding the value, in either key of the index.
  expect(await ids(indexed, { tenant: "t", f: "x" })).toEqual(
    ["42", "aaaaaaaaaaaaaaaaaaaaaaaa", "array-with", "plain", "tenant-array", "tenant-array-f-array"].sort(),
  );
  expect(await ids(indexed, { f: ESCAPED })).toEqual(["escaped", "escaped-in-array"]);

  for (const c of [indexed, plain]) {
    await c.updateMany({ tenant: "t", f: "x" }, { $set: { touched: true } });
    await c.deleteMany({ f: "y" });
  }
  const all = async (c: Collection<Document>) =>
    (await c.find({}).toArray()).map((d) => `${String(d._id)}:${d.touched === true}`).sort();
  expect(await all(indexed)).toEqual(await all(plain));
});

it("answers an indexed equality from SQLite's index instead of reading every document", async () => {
  const db = client.db("pushdown");
  const log = db.collection<{ _id: string; tenant: string; messageId: string; subscriptionId: string }>("plan");
  await log.createIndex({ tenant: 1, messageId: 1, _id: 1 });
  await log.createIndex({ tenant: 1, subscriptionId: 1, _id: 1 });
  const n = 20_000;
  for (let from = 0; from < n; from += 1000) {
    await log.insertMany(
      Array.from({ length: 1000 }, (_, j) => {
        const i = from + j;
        return { _id: `d_${String(i).padStart(6, "0")}`, tenant: "t", messageId: `m_${Math.floor(i / 5)}`, subscriptionId: `s_${i % 100}` };
      }),
    );
  }
  const filter = { tenant: "t", messageId: "m_1234" };
  const plan = await db.command({ explain: { find: "plan", filter, sort: { _id: 1 } } });
  expect(plan.filterPushdown).toBe(true);
  expect(JSON.stringify(plan.queryPlanner)).toMatch(/SEARCH \S+ USING INDEX \S+_tenant_1_messageId_1__id_1 \(<expr>=\? AND <expr>=\?\)/);
  expect(JSON.stringify(plan.queryPlanner)).not.toMatch(/SCAN/);

  const t0 = performance.now();
  const docs = await log.find(filter).sort({ _id: 1 }).toArray();
  const ms = performance.now() - t0;
  expect(docs.map((d) => d._id)).toEqual(["d_006170", "d_006171", "d_006172", "d_006173", "d_006174"]);
  // Reading all 20,000 documents in Go takes about a second here; through the index a few milliseconds.
  expect(ms).toBeLessThan(250);
});

// The index walk (hookwireWalkWhere): a find sorted by _id with a limit, on an index named
// hookwire_strings_… (which declares its keys and the collection's _ids to be strings, the ids of
// [A-Za-z0-9_-]), reads only the page's rows through the index. Ids chosen where text order and string
// order could part: prefixes of each other, characters on both sides of '"' (0x22) in the ASCII table.
const WALK_IDS = ["", "-", "0", "9", "A", "Z", "_", "a", "a-", "a0", "aA", "a_", "aa", "ab", "ab-", "ab0", "abc", "b", "z", "zz", "z-z"];
const walkDocs = (): Document[] =>
  WALK_IDS.flatMap((id, i): Document[] => [
    { _id: `t1${id}`, tenant: "t", f: i % 3 === 0 ? "y" : "x" },
    { _id: `u1${id}`, tenant: "u", f: "x" },
  ]).concat([
    { _id: "arr1", tenant: "t", f: ["x", "y"] },
    { _id: "arr2", tenant: ["t"], f: "x" },
    { _id: "missing1", tenant: "t" },
  ]);

async function walkPair(name: string): Promise<[Collection<Document>, Collection<Document>]> {
  const db = client.db("pushdown");
  const walked = db.collection<Document>(`${name}_walked`);
  const plain = db.collection<Document>(`${name}_plain`);
  await walked.createIndex({ tenant: 1, f: 1, _id: 1 }, { name: "hookwire_strings_tenant_f_id" });
  await walked.createIndex({ tenant: 1, _id: 1 }, { name: "hookwire_strings_tenant_id" });
  await walked.insertMany(walkDocs());
  await plain.insertMany(walkDocs());
  return [walked, plain];
}

it("walks a declared index for a sorted, limited find and answers exactly what FerretDB answers without it", async () => {
  const [walked, plain] = await walkPair("walk");
  const page = async (c: Collection<Document>, filter: Filter<Document>, order: 1 | -1, limit: number) =>
    (await c.find(filter).sort({ _id: order }).limit(limit).toArray()).map((d) => String(d._id));
  const filters: Filter<Document>[] = [{ tenant: "t" }, { tenant: "t", f: "x" }, { tenant: "t", f: "y" }, { tenant: "u", f: "x" }, { tenant: "v" }];
  for (const id of ["t1", "t1a", "t1ab", "t1ab-", "t1z", "u1"]) {
    filters.push({ tenant: "t", f: "x", _id: { $gt: id } }, { tenant: "t", _id: { $lt: id } }, { tenant: "t", f: "x", _id: { $gte: id, $lte: `${id}z` } });
  }
  // Not walked (an unsafe bound, another operator, a field outside the index): still the same answers.
  filters.push({ tenant: "t", _id: { $gt: "t1a b" } }, { tenant: "t", _id: { $ne: "t1a" } }, { tenant: "t", g: "x" });
  for (const filter of filters) {
    for (const order of [1, -1] as const) {
      for (const limit of [1, 3, 7, 100]) {
        const expected = await page(plain, filter, order, limit);
        expect({ filter, order, limit, ids: await page(walked, filter, order, limit) }).toEqual({ filter, order, limit, ids: expected });
      }
    }
  }
  // Arrays holding the value are still found (they are outside the walk, in its array branches).
  expect(await page(walked, { tenant: "t", f: "x" }, 1, 100)).toEqual(expect.arrayContaining(["arr1", "arr2"]));
});

it("reads only a page's rows through the declared index, in its order", async () => {
  const db = client.db("pushdown");
  const log = db.collection<{ _id: string; tenant: string; subscriptionId: string }>("walk_plan");
  await log.createIndex({ tenant: 1, subscriptionId: 1, _id: 1 }, { name: "hookwire_strings_tenant_sub_id" });
  await log.createIndex({ tenant: 1, subscriptionId: 1 });
  const n = 20_000;
  for (let from = 0; from < n; from += 1000) {
    await log.insertMany(
      Array.from({ length: 1000 }, (_, j) => ({ _id: `d_${String(from + j).padStart(6, "0")}`, tenant: "t", subscriptionId: `s_${(from + j) % 2}` })),
    );
  }
  const filter = { tenant: "t", subscriptionId: "s_1", _id: { $gt: "d_012345" } };
  const plan = JSON.stringify((await db.command({ explain: { find: "walk_plan", filter, sort: { _id: 1 }, limit: 50 } })).queryPlanner);
  expect(plan).toMatch(/SEARCH \S+ USING INDEX \S+_hookwire_strings_tenant_sub_id \(<expr>=\? AND <expr>=\? AND <expr>>\?\)/);
  // Rows come in the index's order: no sort of everything the equalities select.
  expect(plan).not.toMatch(/TEMP B-TREE/);
  // No table scan (the plan's one SCAN reads the page the walk's subquery made).
  expect(plan).not.toMatch(/SCAN walk_plan/);
  const docs = await log.find(filter).sort({ _id: 1 }).limit(3).toArray();
  expect(docs.map((d) => d._id)).toEqual(["d_012347", "d_012349", "d_012351"]);
  const last = await log.find({ tenant: "t", subscriptionId: "s_0" }).sort({ _id: -1 }).limit(2).toArray();
  expect(last.map((d) => d._id)).toEqual(["d_019998", "d_019996"]);
});
