// The batched outcome writer both store layouts record through (server/store/common/outcome-writer.ts),
// on a layout of its own here: a write that keeps what it is given in memory, and can be made to fail
// or to hang. The layouts themselves are checked on FerretDB by the store conformance suite.
import { expect, it } from "vitest";
import { createLogger } from "../../server/telemetry/log.js";
import { NO_HOLD, type DeliveryDoc } from "../../server/store/common/delivery-doc.js";
import { OutcomeWriter, type Unwritten } from "../../server/store/common/outcome-writer.js";
import { waitFor } from "../helpers/wait.js";

interface Tagged extends Unwritten {
  tag: string;
}

const quiet = createLogger("error", () => undefined);
const at = new Date(0);

function doc(id: string, status: DeliveryDoc["status"] = "pending"): DeliveryDoc {
  return { _id: id, tenant: "acme", messageId: "msg_1", subscriptionId: "sub_1", url: "http://127.0.0.1:9/", event: "e", policy: { retries: 1, retryDelayMs: 1, timeoutMs: 1 }, status, attempts: [], createdAt: at, updatedAt: at, nextAttemptAt: at, holder: "", holdUntil: NO_HOLD };
}

/** A layout whose writes land in `batches`; `next` decides how the next write goes. */
function layout() {
  const batches: Array<Array<{ id: string; status: string; tag: string }>> = [];
  let next: () => Promise<void> = async () => {};
  const writer = new OutcomeWriter<Tagged>({
    write: async (outcomes) => {
      await next();
      batches.push(outcomes.map((o) => ({ id: o.doc._id, status: o.doc.status, tag: o.tag })));
    },
    merge: (older, newer) => ({ doc: newer.doc, tag: `${older.tag}+${newer.tag}` }),
    log: quiet,
    delayMs: 5,
  });
  return { writer, batches, setNext: (f: () => Promise<void>) => (next = f) };
}

it("gathers states into one write; a newer state of a delivery replaces the older one, and both callers hear once it is stored", async () => {
  const { writer, batches } = layout();
  const first = writer.add({ doc: doc("d1"), tag: "a" });
  const second = writer.add({ doc: doc("d1", "delivered"), tag: "b" });
  const other = writer.add({ doc: doc("d2"), tag: "c" });
  expect(writer.size).toBe(2);
  await Promise.all([first, second, other]);
  expect(batches).toEqual([
    [
      { id: "d1", status: "delivered", tag: "a+b" },
      { id: "d2", status: "pending", tag: "c" },
    ],
  ]);
  expect(writer.size).toBe(0);
});

it("a failed write is tried again whole, under any newer state that came meanwhile; its callers hear only once it is stored", async () => {
  const { writer, batches, setNext } = layout();
  let fail = true;
  let failures = 0;
  setNext(async () => {
    if (fail) {
      failures++;
      throw new Error("store unreachable");
    }
  });
  let stored = false;
  const recorded = writer.add({ doc: doc("d1"), tag: "a" }).then(() => (stored = true));
  await waitFor(() => failures === 1, { timeoutMs: 2000, intervalMs: 2, what: "the first write failed" }); // its retry waits 400 ms
  expect(stored).toBe(false);
  expect(writer.size).toBe(1);
  const newer = writer.add({ doc: doc("d1", "failed"), tag: "b" });
  fail = false;
  await Promise.all([recorded, newer]);
  expect(batches).toEqual([[{ id: "d1", status: "failed", tag: "a+b" }]]);
});

it("drain waits for the write in progress, and no longer than its deadline", async () => {
  const { writer, batches, setNext } = layout();
  let finish: () => void = () => {};
  let writeStarted!: () => void;
  const writing = new Promise<void>((r) => (writeStarted = r));
  setNext(() => {
    writeStarted();
    return new Promise<void>((r) => (finish = r));
  });
  void writer.add({ doc: doc("d1"), tag: "a" });
  await writing; // the write has started and hangs
  expect(writer.size).toBe(1); // the write in progress counts as unwritten
  const started = Date.now();
  expect(await writer.drain(Date.now() + 100)).toBe(false);
  expect(Date.now() - started).toBeLessThan(1000);
  const drained = writer.drain(Date.now() + 5000);
  finish();
  expect(await drained).toBe(true);
  expect(batches).toEqual([[{ id: "d1", status: "pending", tag: "a" }]]);
});
