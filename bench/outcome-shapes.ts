// What a finished delivery's log record costs FerretDB in two shapes: a row per delivery (inserted
// 500 a command, with the log's indexes: what the store writes, so that every list page is an index
// walk) and 500 outcomes in one document (what a bucketed log would write). Both on the embedded
// FerretDB build, interleaved rounds, medians printed. Figures, not checks.
//
//   node --import tsx bench/outcome-shapes.ts [--rounds=7] [--per-write=500]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { startFerretDB } from "../server/embedded-ferretdb.js";
import { ensureWalkIndex } from "../server/store/walk-index.js";
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
for (const fields of [["tenant", "messageId"], ["tenant", "subscriptionId"], ["tenant", "subscriptionId", "status"]]) await ensureWalkIndex(rows, fields);
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
    url: "https://example.com/hook",
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

const perRow: number[] = [];
const perBucket: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  perRow.push(await timed((ds) => rows.insertMany(ds, { ordered: false })));
  perBucket.push(await timed((ds) => buckets.insertOne({ _id: `bkt_${ds[0]!._id}`, tenant: "bench", outcomes: ds })));
}
const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
console.log(`a row per delivery (${PER_WRITE} a command, 3 walk indexes): ${Math.round(med(perRow))} deliveries/s`);
console.log(`${PER_WRITE} outcomes in one document:                  ${Math.round(med(perBucket))} deliveries/s`);
console.log(`ratio: ${(med(perBucket) / med(perRow)).toFixed(1)}x (medians of ${ROUNDS} interleaved rounds of ${WRITES * PER_WRITE} each)`);
await client.close();
await db.stop();
rmSync(dir, { recursive: true, force: true });
