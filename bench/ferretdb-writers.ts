// Concurrent write commands on FerretDB builds, alternated in short rounds so that the machine's noise
// (its host's steal) falls on both alike: `writers` loops, each an insertMany of 16 documents at a time,
// half into a collection shaped and indexed like the delivery log, half like the messages. Prints rows/s
// and each command's p50/p90 per round. Figures are printed, not checked.
//
//   node --import tsx bench/ferretdb-writers.ts --binaries=A,B [--writers=2] [--rounds=6] [--seconds=3]
//
// Used to measure a FerretDB write lock (bench/HISTORY.md, "The peer's workload, third part").
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient, type Collection } from "mongodb";
import { startFerretDBBinary, stopFerretDBBinary } from "./lib.js";

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const binaries = arg("binaries", "").split(",").filter(Boolean);
const WRITERS = Number(arg("writers", "2"));
const ROUNDS = Number(arg("rounds", "6"));
const SECONDS = Number(arg("seconds", "3"));
if (binaries.length === 0) throw new Error("--binaries=PATH[,PATH…] names the FerretDB builds to compare");

let seq = 0;
const id = (prefix: string) => `${prefix}_${(seq++).toString(36).padStart(12, "0")}`;
const logRow = () => ({ _id: id("d"), tenant: "bench", status: "delivered", messageId: id("m"), subscriptionId: "s_1", event: "peer.event", attempts: 1, createdAt: new Date(), d: JSON.stringify({ url: "http://127.0.0.1:1/x", code: 200, ms: 1.2 }) });
const message = () => ({ _id: id("m"), tenant: "bench", lot: "l_1", event: "peer.event", payload: { i: seq, note: "bench" }, createdAt: new Date(), subs: ["s_1"] });

async function round(binary: string): Promise<{ rowsPerS: number; p50: number; p90: number }> {
  const dir = mkdtempSync(join(tmpdir(), "hookwire-writers-"));
  const { uri, child } = await startFerretDBBinary(binary, dir);
  const client = await MongoClient.connect(uri);
  try {
    const db = client.db("bench");
    const log = db.collection("log");
    for (const fields of [["tenant"], ["tenant", "status"], ["tenant", "messageId"], ["tenant", "subscriptionId"], ["tenant", "subscriptionId", "status"]]) {
      await log.createIndex(Object.fromEntries([...fields.map((k) => [k, 1]), ["_id", 1]]));
    }
    const messages = db.collection("messages");
    await messages.createIndex({ lot: 1, _id: 1 });
    const phase = async (ms: number) => {
      const end = performance.now() + ms;
      const latencies: number[] = [];
      let rows = 0;
      const loop = async (col: Collection, make: () => Record<string, unknown>) => {
        while (performance.now() < end) {
          const docs = Array.from({ length: 16 }, make);
          const t = performance.now();
          await col.insertMany(docs as never, { ordered: false });
          latencies.push(performance.now() - t);
          rows += docs.length;
        }
      };
      const t0 = performance.now();
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => (w % 2 ? loop(log, logRow) : loop(messages, message))));
      latencies.sort((a, b) => a - b);
      return { rowsPerS: rows / ((performance.now() - t0) / 1000), p50: latencies[Math.floor(latencies.length / 2)]!, p90: latencies[Math.floor(latencies.length * 0.9)]! };
    };
    await phase(1000); // warm-up
    return await phase(SECONDS * 1000);
  } finally {
    await client.close();
    await stopFerretDBBinary(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

for (let r = 1; r <= ROUNDS; r++) {
  // Each round starts with the other build, so neither always runs first.
  const order = r % 2 ? binaries : [...binaries].reverse();
  for (const binary of order) {
    const f = await round(binary);
    console.log(`round ${r} ${binary}: ${f.rowsPerS.toFixed(0)} rows/s, command p50 ${f.p50.toFixed(1)} ms, p90 ${f.p90.toFixed(1)} ms (${WRITERS} writers)`);
  }
}
