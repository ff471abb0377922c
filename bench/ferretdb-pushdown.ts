// Reads of a delivery log at scale on two FerretDB builds: the _id patch only (the build before the
// equality pushdown) and the full patch set (scripts/build-ferretdb.sh). Both read the same SQLite files,
// filled once. Figures are printed, not checked.
//
//   node --import tsx bench/ferretdb-pushdown.ts [--sizes=100000,1000000] [--runs=5] [--before-runs=1]
//
// The builds go into HOOKWIRE_CACHE_DIR (default /tmp/hookwire-bench-ferretdb), not the shared cache.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MongoClient, type Filter } from "mongodb";
import { startFerretDBBinary as start, stopFerretDBBinary as stop } from "./lib.js";

const arg = (name: string, dflt: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const SIZES = arg("sizes", "100000,1000000").split(",").map(Number);
const RUNS = Number(arg("runs", "5"));
const BEFORE_RUNS = Number(arg("before-runs", "1"));
const CACHE_DIR = process.env.HOOKWIRE_CACHE_DIR ?? "/tmp/hookwire-bench-ferretdb";
const BUILD_SCRIPT = fileURLToPath(new URL("../scripts/build-ferretdb.sh", import.meta.url));

const TENANTS = 10;
const SUBS_PER_TENANT = 100;
const PER_MESSAGE = 5; // one catch-all ("hot") subscription of the tenant plus four of its others

function build(patch: string): string {
  const out = spawnSync("bash", [BUILD_SCRIPT], {
    encoding: "utf8",
    env: { ...process.env, PATCH: patch, HOOKWIRE_CACHE_DIR: CACHE_DIR },
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (out.status !== 0) throw new Error(`building FerretDB (PATCH=${patch}) failed`);
  return out.stdout.trim().split("\n").pop()!;
}


type Document = { _id: string; [field: string]: unknown };

const id = (i: number) => `dlv_${i.toString().padStart(8, "0")}`;

/** Delivery i: message i/5 of tenant (i/5)%10; its first delivery goes to the tenant's catch-all subscription. */
function delivery(i: number): Document {
  const msg = Math.floor(i / PER_MESSAGE);
  const tenant = `tenant_${msg % TENANTS}`;
  const k = i % PER_MESSAGE;
  const sub = k === 0 ? "hot" : String(1 + ((Math.floor(msg / TENANTS) * 4 + k - 1) % (SUBS_PER_TENANT - 1)));
  return {
    _id: id(i),
    tenant,
    messageId: `msg_${msg.toString().padStart(8, "0")}`,
    subscriptionId: `sub_${tenant}_${sub}`,
    status: i % 97 === 0 ? "failed" : "delivered",
    attempts: 1 + (i % 3),
    lastAttemptAt: 1_760_000_000_000 + i,
    responseStatus: i % 97 === 0 ? 500 : 200,
    url: "http://127.0.0.1:9/hooks/endpoint",
  };
}

async function fill(uri: string, n: number): Promise<void> {
  const client = new MongoClient(uri);
  const log = client.db("bench").collection<Document>("log");
  // The indexes Hookwire's store creates on its delivery log.
  await log.createIndex({ tenant: 1, messageId: 1, _id: 1 });
  await log.createIndex({ tenant: 1, subscriptionId: 1, _id: 1 });
  const t0 = performance.now();
  for (let from = 0; from < n; from += 1000) {
    const docs = Array.from({ length: Math.min(1000, n - from) }, (_, j) => delivery(from + j));
    await log.insertMany(docs, { ordered: false });
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`  filled ${n.toLocaleString("en")} deliveries in ${s.toFixed(0)} s (${Math.round(n / s).toLocaleString("en")}/s)`);
  await client.close();
}

interface Read {
  name: string;
  filter: Filter<Document>;
}

function reads(n: number): Read[] {
  const lastMsg = Math.floor((n - 1) / PER_MESSAGE);
  const midMsg = Math.floor(lastMsg / 2);
  const tenant = `tenant_${midMsg % TENANTS}`;
  const midId = id(midMsg * PER_MESSAGE);
  const typical = delivery(midMsg * PER_MESSAGE + 1).subscriptionId as string;
  const hot = `sub_${tenant}_hot`;
  return [
    { name: "by message", filter: { tenant, messageId: `msg_${midMsg.toString().padStart(8, "0")}` } },
    { name: "by subscription, first page", filter: { tenant, subscriptionId: typical } },
    { name: "by subscription, later page", filter: { tenant, subscriptionId: typical, _id: { $gt: midId } } },
    { name: "by subscription and status", filter: { tenant, subscriptionId: typical, status: "failed" } },
    { name: "catch-all subscription, first page", filter: { tenant, subscriptionId: hot } },
    { name: "catch-all subscription, later page", filter: { tenant, subscriptionId: hot, _id: { $gt: midId } } },
    { name: "catch-all subscription and status", filter: { tenant, subscriptionId: hot, status: "failed" } },
  ];
}

async function timeReads(uri: string, n: number, runs: number): Promise<Map<string, { ms: number; ids: string }>> {
  const client = new MongoClient(uri);
  const db = client.db("bench");
  const log = db.collection<Document>("log");
  const out = new Map<string, { ms: number; ids: string }>();
  for (const r of reads(n)) {
    const times: number[] = [];
    let ids = "";
    for (let k = 0; k < runs; k++) {
      const t0 = performance.now();
      const docs = await log.find(r.filter).sort({ _id: 1 }).limit(50).toArray();
      times.push(performance.now() - t0);
      ids = `${docs.length} docs ${docs[0]?._id ?? "-"}..${docs.at(-1)?._id ?? "-"}`;
    }
    times.sort((a, b) => a - b);
    out.set(r.name, { ms: times[Math.floor(times.length / 2)]!, ids });
  }
  const plan = await db.command({ explain: { find: "log", filter: reads(n)[1]!.filter, sort: { _id: 1 } } });
  console.log(`  plan (by subscription): ${JSON.stringify(plan.queryPlanner?.Plan ?? plan.queryPlanner)} pushdown=${plan.filterPushdown}`);
  await client.close();
  return out;
}

const before = build("id");
const after = build("1");
for (const n of SIZES) {
  const dir = mkdtempSync(join(tmpdir(), "hookwire-bench-pushdown-"));
  try {
    console.log(`\n${n.toLocaleString("en")} deliveries (${TENANTS} tenants, ${SUBS_PER_TENANT} subscriptions each, ${PER_MESSAGE} deliveries a message)`);
    let f = await start(after, dir);
    await fill(f.uri, n);
    const afterTimes = await timeReads(f.uri, n, RUNS);
    await stop(f.child);
    f = await start(before, dir);
    const beforeTimes = await timeReads(f.uri, n, BEFORE_RUNS);
    await stop(f.child);
    console.log(`  | read (page of 50, sorted by _id) | _id patch only | with equality pushdown | same result |`);
    console.log(`  |---|---|---|---|`);
    for (const [name, a] of afterTimes) {
      const b = beforeTimes.get(name)!;
      console.log(`  | ${name} | ${b.ms.toFixed(0)} ms | ${a.ms.toFixed(1)} ms | ${a.ids === b.ids ? "yes" : `NO: ${b.ids} vs ${a.ids}`} (${a.ids}) |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
