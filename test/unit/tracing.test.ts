// The store's traced writes (server/tracing.ts) on the in-memory store, with a Traces that writes down what it is
// asked: which writes get a span and in which trace, that new deliveries take the call's context and finished ones
// leave it behind, and that the ports' other methods work through the wrapper. What the SDK makes of it, and what
// a collector receives, is test/e2e/tracing.test.ts.
import { expect, it } from "vitest";
import { newId } from "../../server/domain/ids.js";
import type { Delivery, Message } from "../../server/ports.js";
import { MemoryDatabase, openMemoryStore } from "../../server/store/memory/memory-store.js";
import type { Traces, WriteParent } from "../../server/telemetry/traces.js";
import { tracedStore } from "../../server/tracing.js";

const CALL = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/** A Traces that keeps what it was asked; `active` stands for the span a call's handler runs in. */
class WrittenDown implements Traces {
  active: string | undefined;
  readonly writes: Array<{ name: string; parent: WriteParent }> = [];
  current = () => this.active;
  write<R>(name: string, parent: WriteParent, run: () => Promise<R>): Promise<R> {
    this.writes.push({ name, parent });
    return run();
  }
  rpc(): never {
    throw new Error("not here");
  }
  attempt(): never {
    throw new Error("not here");
  }
  detached = <T>(fn: () => T): T => fn();
  shutdown = async () => undefined;
}

function rig() {
  const db = new MemoryDatabase();
  const traces = new WrittenDown();
  return { db, traces, store: tracedStore(openMemoryStore(db, { holdMs: 30_000 }), traces) };
}

function triggerDocs(n: number): { message: Message; deliveries: Delivery[] } {
  const now = new Date();
  const message: Message = { _id: newId("msg"), tenant: "acme", event: "e.x", body: "{}", idempotencyKey: "", deliveries: n, createdAt: now };
  const deliveries = Array.from({ length: n }, (): Delivery => ({
    _id: newId("dlv"),
    tenant: "acme",
    messageId: message._id,
    subscriptionId: newId("sub"),
    url: "http://127.0.0.1:9/h",
    event: "e.x",
    policy: { retries: 3, retryDelayMs: 1000, timeoutMs: 10_000 },
    status: "pending",
    attempts: [],
    createdAt: now,
    updatedAt: now,
    nextAttemptAt: now,
  }));
  return { message, deliveries };
}

it("a call's new deliveries are stored with its trace context, and its write is a span of the call", async () => {
  const { db, traces, store } = rig();
  traces.active = CALL;
  const { message, deliveries } = triggerDocs(2);
  const res = await store.queue.accept(message, deliveries);
  expect("held" in res && res.held).toHaveLength(2);
  expect([...db.deliveries.values()].map((s) => s.doc.trace)).toEqual([CALL, CALL]);
  expect(traces.writes).toEqual([{ name: "store queue.accept", parent: { call: true } }]);
});

it("outside any span, deliveries carry no context", async () => {
  const { db, traces, store } = rig();
  const { message, deliveries } = triggerDocs(1);
  await store.queue.accept(message, deliveries);
  expect([...db.deliveries.values()][0]!.doc).not.toHaveProperty("trace");
  // The write itself still asks (Traces.write leaves it untraced when the call has no span).
  expect(traces.writes.map((w) => w.name)).toEqual(["store queue.accept"]);
});

it("an outcome's write is in its delivery's trace; a retry keeps the context, a finished delivery leaves it behind", async () => {
  const { db, traces, store } = rig();
  traces.active = CALL;
  const { message, deliveries } = triggerDocs(1);
  const res = await store.queue.accept(message, deliveries);
  if (!("held" in res)) throw new Error("not accepted");
  const item = res.held[0]!;
  traces.active = undefined;
  const retry: Delivery = { ...item.delivery, updatedAt: new Date() };
  await store.queue.record(item, retry, true);
  expect(db.deliveries.get(item.delivery._id)!.doc.trace).toBe(CALL);
  await store.queue.record(item, { ...retry, status: "delivered" }, false);
  expect(db.deliveries.get(item.delivery._id)!.doc).not.toHaveProperty("trace");
  expect(traces.writes.slice(1)).toEqual([
    { name: "store queue.record", parent: { trace: CALL } },
    { name: "store queue.record", parent: { trace: CALL } },
  ]);
});

it("housekeeping is not traced, reads are not, and the ports' other members work through the wrapper", async () => {
  const { traces, store } = rig();
  const { message, deliveries } = triggerDocs(1);
  await store.queue.accept(message, deliveries);
  traces.writes.length = 0;
  await store.queue.renew();
  await store.queue.releaseAll();
  expect(await store.queue.takeDue(new Date(Date.now() + 60_000), 10)).toHaveLength(1);
  expect(await store.messages.byId(message._id)).not.toBeNull();
  expect(store.queue.holder).toMatch(/^memory:/);
  expect(store.queue.unwritten).toBe(0);
  expect(traces.writes).toEqual([]);
});
