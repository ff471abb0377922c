// A database the earlier FerretDB layout wrote (held batches leased in message documents and batch rows,
// unpacked log rows) opened by this version: nothing accepted is lost, everything stored reads back.
import { randomBytes } from "node:crypto";
import { afterAll, expect, inject, it } from "vitest";
import { newId } from "../../server/domain/ids.js";
import { createLogger } from "../../server/telemetry/log.js";
import type { Delivery, StorePorts } from "../../server/ports.js";
import { openStore } from "../../server/store/open.js";
import { SecretBox } from "../../server/domain/secret-box.js";
import { fileMongoClient } from "../helpers/mongo-client.js";
import { uniqueDatabase } from "../helpers/server.js";
import { deliveredAttempts, earlierDelivery } from "../helpers/earlier-deliveries.js";
import { sleep } from "../helpers/wait.js";

const quiet = createLogger("error", () => undefined);
const opened: StorePorts[] = [];
const client = fileMongoClient();
afterAll(async () => {
  for (const s of opened) await s.close().catch(() => undefined);
});

function delivery(messageId: string, subscriptionId: string, status: Delivery["status"] = "pending") {
  const held = { shard: 3, leaseOwner: "host:123:dead", leaseUntil: new Date(Date.now() - 60_000) };
  return earlierDelivery(messageId, subscriptionId, held, status === "pending" ? {} : { status, attempts: deliveredAttempts() });
}

it("takes over the earlier layout's held batches and reads its log rows", async () => {
  const database = uniqueDatabase("upgrade");
  const db = client.db(database);
  await db.collection("hookwire_meta").insertOne({ _id: "layout" as never, layout: "ferretdb" });
  const m1 = newId("msg");
  const m2 = newId("msg");
  const inMessage = [delivery(m1, "sub_1"), delivery(m1, "sub_2")];
  const inRow = delivery(m2, "sub_1");
  const logged = delivery(m2, "sub_2", "delivered");
  const body = '{"event":"order.created","payload":1,"timestamp":"t"}';
  const held = { batchHeld: "held", shard: 3, leaseOwner: "host:123:dead", leaseUntil: new Date(Date.now() - 60_000) };
  await db.collection("messages").insertMany([
    { _id: m1 as never, tenant: "acme", event: "order.created", body, idempotencyKey: "", deliveries: 2, createdAt: new Date(), ...held, batch: inMessage },
    { _id: m2 as never, tenant: "acme", event: "order.created", body, idempotencyKey: "", deliveries: 2, createdAt: new Date() },
  ]);
  await db.collection("delivery_batches").insertOne({ _id: newId("bat") as never, tenant: "acme", messageId: m2, createdAt: new Date(), ...held, deliveries: [inRow] });
  await db.collection("delivery_log").insertOne(logged as never);

  const store = await openStore(inject("mongodbUri"), database, quiet, new SecretBox([randomBytes(32)]), { holdMs: 400, layout: "ferretdb" });
  opened.push(store);
  const pending = await store.log.list({ tenant: "acme", subscriptionId: "sub_1", limit: 10 });
  expect(pending.map((d) => d._id).sort()).toEqual([inMessage[0]!._id, inRow._id].sort());
  expect((await store.log.get("acme", logged._id))!.attempts.map((a) => a.statusCode)).toEqual([200]);
  expect((await store.log.list({ tenant: "acme", messageId: m2, status: "delivered", limit: 10 })).map((d) => d._id)).toEqual([logged._id]);

  const taken = await store.queue.takeDue(new Date(), 100);
  expect(taken.map((t) => t.delivery._id).sort()).toEqual([...inMessage.map((d) => d._id), inRow._id].sort());
  for (const t of taken) await store.queue.record(t, { ...t.delivery, attempts: [{ at: new Date(), durationMs: 3, statusCode: 204, excerpt: "", error: "" }], status: "delivered", updatedAt: new Date() }, false);
  await store.queue.flush(Date.now() + 5000);
  expect((await store.log.list({ tenant: "acme", subscriptionId: "sub_1", limit: 10 })).every((d) => d.status === "delivered")).toBe(true);
  // Ended: nothing is taken again once the lot's hold would have run out (a sleep: that time must pass).
  await sleep(600);
  expect(await store.queue.takeDue(new Date(), 100)).toEqual([]);
  expect(await db.collection("delivery_lots").countDocuments({})).toBe(0);
});

it("counts the subscriptions of a database written before the per-tenant counter once, then keeps the counter", async () => {
  const database = uniqueDatabase("upgc");
  const db = client.db(database);
  const now = new Date();
  // As the earlier version left them: subscriptions, and tenants with a change version but no count.
  const subs = Array.from({ length: 4 }, (_, i) => ({ _id: newId("sub"), tenant: i < 3 ? "acme" : "globex", url: "http://127.0.0.1:9/u", events: ["*"], secret: "s", description: "", createdAt: now, updatedAt: now, disabled: i === 0, disabledReason: "", policy: {} }));
  await db.collection<{ _id: string }>("subscriptions").insertMany(subs);
  await db.collection<{ _id: string }>("tenants").insertMany([{ _id: "acme", subscriptionsVersion: 3 }, { _id: "globex", subscriptionsVersion: 1 }] as never);
  const store = await openStore(inject("mongodbUri"), database, quiet, new SecretBox([randomBytes(32)]), { holdMs: 400, layout: "ferretdb" });
  opened.push(store);
  // A delete before any count makes sure of the counter first, so it moves 3 to 2, not nothing to -1.
  expect(await store.subscriptions.delete("acme", subs[1]!._id)).toBe(true);
  expect(await store.subscriptions.count("acme")).toBe(2);
  expect(await store.subscriptions.count("globex")).toBe(1);
  expect(await db.collection<{ _id: string }>("tenants").findOne({ _id: "acme" })).toMatchObject({ subscriptionCount: 2, subscriptionsVersion: 4 });
});

it("lists by owner the deliveries of a live lot the version before owner-keyed lots opened (its messages read whole)", async () => {
  const database = uniqueDatabase("upgrade");
  const db = client.db(database);
  await db.collection("hookwire_meta").insertOne({ _id: "layout" as never, layout: "ferretdb" });
  const lot = newId("lot");
  // Held by a process elsewhere that is still renewing it: nothing is taken over, the list must find it as it stands.
  const hold = { holder: "elsewhere:123:live", holdUntil: new Date(Date.now() + 60_000) };
  await db.collection("delivery_lots").insertOne({ _id: lot as never, createdAt: new Date(), ...hold });
  const m = newId("msg");
  const alice = { ...earlierDelivery(m, "sub_1", hold), owner: "user-alice" };
  const bob = { ...earlierDelivery(m, "sub_2", hold), owner: "user-bob" };
  const body = '{"event":"order.created","payload":1,"timestamp":"t"}';
  await db.collection("messages").insertOne({ _id: m as never, tenant: "acme", event: "order.created", body, idempotencyKey: "", deliveries: 2, createdAt: new Date(), allOwners: true, lot, batch: [alice, bob] });

  const store = await openStore(inject("mongodbUri"), database, quiet, new SecretBox([randomBytes(32)]), { holdMs: 400, layout: "ferretdb" });
  opened.push(store);
  expect((await store.log.list({ tenant: "acme", owner: "user-alice", limit: 10 })).map((d) => d._id)).toEqual([alice._id]);
  expect((await store.log.list({ tenant: "acme", owner: "user-carol", limit: 10 })).map((d) => d._id)).toEqual([]);
});
