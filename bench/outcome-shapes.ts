// What FerretDB's cost is made of, by the shape of what is written, on the embedded FerretDB build,
// interleaved rounds, medians printed (figures, not checks):
// - a finished delivery's log record: a row per delivery as nested fields (500 a command, with the
//   log's indexes), the same row packed as the store writes it (server/store/ferret/packed.ts: filtered
//   fields top-level, the rest JSON text), and 500 outcomes in one document (a bucketed log);
// - a Trigger's message document with its batch of one delivery, nested or packed.
//
//   node --import tsx bench/outcome-shapes.ts [--rounds=7] [--per-write=500]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { startFerretDB } from "../server/dev/embedded-ferretdb.js";
import type { DeliveryDoc } from "../server/store/common/delivery-doc.js";
import { packDeliveries, toLogRow } from "../server/store/ferret/packed.js";
import { ensureWalkIndex } from "../server/store/common/walk-index.js";
import { percentile } from "./lib.js";

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const ROUNDS = Number(arg("rounds", "7"));
const PER_WRITE = Number(arg("per-write", "500"));
const WRITES = 20;

const dir = mkdtempSync(join(tmpdir(), "hookwire-shapes-"));
const db = await startFerretDB({ dir });
const client = new MongoClient(db.uri);
const database = client.db("shapes");
const rows = database.collection<{ _id: string }>("rows");
const buckets = database.collection<{ _id: string; tenant: string; outcomes: unknown[] }>("buckets");
const packedRows = database.collection<{ _id: string }>("packed_rows");
const messagesNested = database.collection<{ _id: string }>("messages_nested");
const messagesPacked = database.collection<{ _id: string }>("messages_packed");
for (const col of [rows, packedRows]) {
  for (const fields of [["tenant", "messageId"], ["tenant", "subscriptionId"], ["tenant", "subscriptionId", "status"]]) await ensureWalkIndex(col, fields);
}
for (const col of [messagesNested, messagesPacked]) await ensureWalkIndex(col, ["lot"]);
await ensureWalkIndex(buckets, ["tenant"]);

let seq = 0;
const at = new Date();
const delivery = () => {
  const n = seq++;
  return {
    _id: `dlv_${n.toString(36).padStart(12, "0")}`,
    tenant: "bench",
    messageId: `msg_${n.toString(36).padStart(12, "0")}`,
    subscriptionId: `sub_${(n % 100).toString(36)}`,
    url: "http://127.0.0.1:9/hook",
    event: "order.created",
    policy: { retries: 3, retryDelayMs: 1000, timeoutMs: 10_000 },
    status: "delivered",
    attempts: [{ at, durationMs: 3, statusCode: 200, excerpt: "", error: "" }],
    createdAt: at,
    updatedAt: at,
    nextAttemptAt: at,
  };
};

/** Deliveries recorded per second over WRITES writes of PER_WRITE outcomes. */
async function timed(write: (ds: ReturnType<typeof delivery>[]) => Promise<unknown>): Promise<number> {
  const groups = Array.from({ length: WRITES }, () => Array.from({ length: PER_WRITE }, delivery));
  const t = performance.now();
  for (const g of groups) await write(g);
  return (WRITES * PER_WRITE) / ((performance.now() - t) / 1000);
}

const body = JSON.stringify({ event: "order.created", payload: { i: 1, note: "bench" }, timestamp: at.toISOString() });
const message = (d: ReturnType<typeof delivery>, packed: boolean) => {
  const batch = [{ ...d, status: "pending", attempts: [], holder: "host:1:ab", holdUntil: at }] as unknown as DeliveryDoc[];
  return { _id: d.messageId, tenant: "bench", event: "order.created", body, idempotencyKey: "", deliveries: 1, createdAt: at, lot: "lot_1", batch: packed ? packDeliveries(batch) : batch };
};
const shapes: Array<[string, (ds: ReturnType<typeof delivery>[]) => Promise<unknown>]> = [
  [`log rows, nested fields (${PER_WRITE} a command, 3 walk indexes)`, (ds) => rows.insertMany(ds, { ordered: false })],
  [`log rows, packed as the store writes them`, (ds) => packedRows.insertMany(ds.map((d) => toLogRow(d as unknown as DeliveryDoc)), { ordered: false })],
  [`${PER_WRITE} outcomes in one document`, (ds) => buckets.insertOne({ _id: `bkt_${ds[0]!._id}`, tenant: "bench", outcomes: ds })],
  [`message documents with a batch of one, nested`, (ds) => messagesNested.insertMany(ds.map((d) => message(d, false)), { ordered: false })],
  [`message documents with a batch of one, packed`, (ds) => messagesPacked.insertMany(ds.map((d) => message(d, true)), { ordered: false })],
];
const rates = shapes.map((): number[] => []);
for (let r = 0; r < ROUNDS; r++) for (const [i, [, write]] of shapes.entries()) rates[i]!.push(await timed(write));
const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
for (const [i, [name]] of shapes.entries()) console.log(`${name.padEnd(58)} ${Math.round(med(rates[i]!))} deliveries/s`);
console.log(`(medians of ${ROUNDS} interleaved rounds of ${WRITES * PER_WRITE} each)`);
await client.close();
await db.stop();
rmSync(dir, { recursive: true, force: true });
