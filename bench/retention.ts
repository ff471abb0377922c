// What a retention sweep costs on the embedded FerretDB, by how much is stored: the store's own
// sweep (server/store/ferret/retention.ts) on databases of 10,000 and 100,000 messages with a log
// row each (plus a queue of pending retries), 1,000 of the messages past the cutoff. Printed beside
// the same run's baseline: the time to write those 1,000 messages and log rows.
//   node --conditions=hookwire-source --import tsx bench/retention.ts [--sizes=10000,100000] [--old=1000]
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { startFerretDB } from "../server/dev/embedded-ferretdb.js";
import { createLogger } from "../server/telemetry/log.js";
import type { DeliveryDoc } from "../server/store/common/delivery-doc.js";
import { openStore } from "../server/store/open.js";
import { packDeliveries, toLogRow } from "../server/store/ferret/packed.js";
import { SecretBox } from "../server/domain/secret-box.js";

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const SIZES = arg("sizes", "10000,100000").split(",").map(Number);
const OLD = Number(arg("old", "1000"));
const QUEUED = 1000;
const DAY = 86_400_000;

const dir = mkdtempSync(join(tmpdir(), "hookwire-retention-"));
const ferret = await startFerretDB({ dir });
const client = new MongoClient(ferret.uri);
const quiet = createLogger("error", () => undefined);
const body = JSON.stringify({ event: "order.created", payload: { i: 1, note: "bench" }, timestamp: new Date().toISOString() });

/** A message as a Trigger with one subscription stores it (hashed id, as with an idempotency key), and its delivery. */
function triggered(at: Date, status: "delivered" | "pending") {
  const messageId = `msg_${randomBytes(15).toString("hex").slice(0, 29)}`;
  const d = {
    _id: `dlv_${at.getTime().toString(36).padStart(9, "0")}${randomBytes(10).toString("hex")}`,
    tenant: "bench",
    messageId,
    subscriptionId: "sub_1",
    url: "http://127.0.0.1:9/hook",
    event: "order.created",
    policy: { retries: 3, retryDelayMs: 1000, timeoutMs: 10_000 },
    status,
    attempts: [{ at, durationMs: 3, statusCode: status === "delivered" ? 200 : 500, excerpt: "", error: "" }],
    createdAt: at,
    updatedAt: at,
    nextAttemptAt: new Date(at.getTime() + DAY),
    holder: "",
    holdUntil: new Date(0),
  } as DeliveryDoc;
  const message = { _id: messageId, tenant: "bench", event: "order.created", body, idempotencyKey: "k", deliveries: 1, createdAt: at, lot: "lot_000000000gone", batch: packDeliveries([d]) };
  return { message, delivery: d };
}

const ms = (t: number) => `${(performance.now() - t).toFixed(0)} ms`;
const rows: string[] = [];
for (const size of SIZES) {
  const name = `retention_${size}`;
  const store = await openStore(ferret.uri, name, quiet, new SecretBox([randomBytes(32)]), { holdMs: 30_000, layout: "ferretdb" });
  const db = client.db(name);
  const now = Date.now();
  // Stored in creation order, as Triggers store them: the old ones first.
  const fill = async (n: number, at: (i: number) => Date, status: "delivered" | "pending" = "delivered") => {
    for (let i = 0; i < n; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, n - i) }, (_, j) => triggered(at(i + j), status));
      await db.collection("messages").insertMany(batch.map((b) => b.message) as never[], { ordered: false });
      const target = status === "delivered" ? "delivery_log" : "delivery_queue";
      await db.collection(target).insertMany(batch.map((b) => (status === "delivered" ? toLogRow(b.delivery) : b.delivery)) as never[], { ordered: false });
    }
  };
  let t = performance.now();
  await fill(OLD, (i) => new Date(now - 40 * DAY + i));
  const baseline = ms(t);
  await fill(size - OLD - QUEUED, (i) => new Date(now - 10 * DAY + i));
  await fill(QUEUED, (i) => new Date(now - DAY + i), "pending");
  const before = new Date(now - 30 * DAY);
  t = performance.now();
  const removed = await store.retention.sweep(before, OLD);
  const sweep = ms(t);
  t = performance.now();
  const idle = await store.retention.sweep(before, OLD);
  const nothing = ms(t);
  const left = await db.collection("delivery_log").countDocuments({});
  rows.push(`| ${size.toLocaleString("en")} | ${removed.messages} removed in ${sweep} | ${idle.messages} removed in ${nothing} | ${baseline} | ${left.toLocaleString("en")} |`);
  await store.close();
}
console.log(`| messages stored (a log row each) | sweep of the ${OLD.toLocaleString("en")} past the cutoff | the next sweep (nothing due) | baseline: writing those ${OLD.toLocaleString("en")} | log rows left |`);
console.log("|---|---|---|---|---|");
for (const r of rows) console.log(r);
await client.close();
await ferret.stop();
rmSync(dir, { recursive: true, force: true });
