// A database the FerretDB layout wrote while it named a hold's fields leaseOwner, leaseUntil and
// claimToken, opened by this version (which names them holder, holdUntil and takeToken): the one-time
// migration moves every hold read from, and the work held, queued or accepted under the old names is
// taken, delivered and listed as before. The documents are written here as that version wrote them.
import { randomBytes } from "node:crypto";
import { afterAll, expect, inject, it } from "vitest";
import type { Document } from "mongodb";
import { newId } from "../../server/domain/ids.js";
import { createLogger } from "../../server/telemetry/log.js";
import type { Delivery, HeldDelivery, StorePorts } from "../../server/ports.js";
import { openStore } from "../../server/store/open.js";
import { packDeliveries } from "../../server/store/ferret/packed.js";
import { SecretBox } from "../../server/domain/secret-box.js";
import { fileMongoClient } from "../helpers/mongo-client.js";
import { uniqueDatabase } from "../helpers/server.js";
import { deliveredAttempts, earlierDelivery } from "../helpers/earlier-deliveries.js";
import { waitFor, WaitTimeoutError } from "../helpers/wait.js";

const quiet = createLogger("error", () => undefined);
const opened: StorePorts[] = [];
const client = fileMongoClient();
afterAll(async () => {
  for (const s of opened) await s.close().catch(() => undefined);
});

const OLD_FIELDS = ["leaseOwner", "leaseUntil", "claimToken"];
const withOldField = { $or: OLD_FIELDS.map((f) => ({ [f]: { $exists: true } })) };
const DEAD = "host:123:dead";
const ids = (items: Array<HeldDelivery | Delivery>) => items.map((i) => ("delivery" in i ? i.delivery._id : i._id)).sort();

/** A delivery as the earlier version stored it, held by `leaseOwner` until `leaseUntil`. */
const oldDelivery = (messageId: string, subscriptionId: string, hold: { leaseOwner: string; leaseUntil: Date; claimToken?: string }, state: Partial<Delivery> = {}) =>
  earlierDelivery(messageId, subscriptionId, hold, state);

function message(lot?: string, batch?: string) {
  const body = '{"event":"order.created","payload":1,"timestamp":"t"}';
  return { _id: newId("msg"), tenant: "acme", event: "order.created", body, idempotencyKey: "", deliveries: 0, createdAt: new Date(), ...(lot ? { lot, batch } : {}) };
}

/** Asks `done` every 100 ms until it answers true or `ms` pass; answers its last answer. */
async function within(ms: number, done: () => Promise<boolean>): Promise<boolean> {
  return waitFor(done, { timeoutMs: ms, intervalMs: 100 }).then(
    () => true,
    (err: unknown) => {
      if (err instanceof WaitTimeoutError) return false;
      throw err;
    },
  );
}

function delivered(t: HeldDelivery): Delivery {
  return { ...t.delivery, attempts: [{ at: new Date(), durationMs: 3, statusCode: 204, excerpt: "", error: "" }], status: "delivered", updatedAt: new Date() };
}

it("moves a hold's fields to the port's names; what was held, queued or accepted under the old ones is taken, delivered and listed", async () => {
  const database = uniqueDatabase("uphold");
  const db = client.db(database);
  const queue = db.collection<Document>("delivery_queue");
  const lots = db.collection<Document>("delivery_lots");
  const log = db.collection<Document>("delivery_log");
  const messages = db.collection<Document>("messages");
  const batches = db.collection<Document>("delivery_batches");
  // The earlier version's database: its layout, its migrations done, its indexes on the old names.
  await db.collection<Document>("hookwire_meta").insertMany([
    { _id: "layout" as never, layout: "ferretdb" },
    { _id: "delivery-rows-without-secrets" as never, at: new Date() },
    { _id: "held-batches-in-lots" as never, at: new Date() },
  ]);
  await queue.createIndex({ nextAttemptAt: 1, leaseUntil: 1 });
  await queue.createIndex({ claimToken: 1 });
  await queue.createIndex({ leaseOwner: 1 });
  await lots.createIndex({ leaseOwner: 1 });
  await lots.createIndex({ claimToken: 1 });

  const past = new Date(Date.now() - 60_000);
  const deadHold = { leaseOwner: DEAD, leaseUntil: past };
  // A lot its process held when it died: a Trigger's deliveries packed in the message (shared and each,
  // the hold among the shared fields) and one more in a batch row (a one-element array of text).
  const lot = newId("lot");
  await lots.insertOne({ _id: lot as never, ...deadHold, claimToken: `${DEAD}:1:ab`, createdAt: past });
  const m1 = message(lot);
  const inMessage = [oldDelivery(m1._id, "sub_1", deadHold), oldDelivery(m1._id, "sub_2", deadHold)];
  const inRow = oldDelivery(m1._id, "sub_3", deadHold);
  await messages.insertOne({ ...m1, _id: m1._id as never, deliveries: 3, batch: packDeliveries(inMessage as never) });
  await batches.insertOne({ _id: newId("bat") as never, tenant: "acme", messageId: m1._id, lot, createdAt: past, deliveries: packDeliveries([inRow] as never) });
  // Queue rows: a retry released to the store, one a dead process held, one a live process holds for a
  // few seconds more, and one due in an hour.
  const m2 = message();
  await messages.insertOne({ ...m2, _id: m2._id as never, deliveries: 4 });
  const liveUntil = new Date(Date.now() + 4000);
  const released = oldDelivery(m2._id, "sub_1", { leaseOwner: "", leaseUntil: new Date(0) });
  const deadHeld = oldDelivery(m2._id, "sub_2", { ...deadHold, claimToken: `${DEAD}:2:cd` });
  const liveHeld = oldDelivery(m2._id, "sub_3", { leaseOwner: "host:456:alive", leaseUntil: liveUntil });
  const later = oldDelivery(m2._id, "sub_4", { leaseOwner: "", leaseUntil: new Date(0) }, { nextAttemptAt: new Date(Date.now() + 3_600_000) });
  await queue.insertMany([released, deadHeld, liveHeld, later] as never);
  // A finished delivery's log row as versions before packing wrote it: with its last hold.
  const logged = oldDelivery(m2._id, "sub_5", { leaseOwner: DEAD, leaseUntil: past }, { status: "delivered", attempts: deliveredAttempts(past) });
  await log.insertOne(logged as never);

  const store = await openStore(inject("mongodbUri"), database, quiet, new SecretBox([randomBytes(32)]), { holdMs: 400, layout: "ferretdb" });
  opened.push(store);

  // Stored under the new names only, what each held kept; the old names' indexes replaced.
  for (const col of [queue, lots, log]) expect(await col.countDocuments(withOldField)).toBe(0);
  expect(await queue.findOne({ _id: deadHeld._id as never })).toMatchObject({ holder: DEAD, holdUntil: past });
  expect(await queue.findOne({ _id: liveHeld._id as never })).toMatchObject({ holder: "host:456:alive", holdUntil: liveUntil });
  expect(await queue.findOne({ _id: deadHeld._id as never })).not.toHaveProperty("takeToken");
  expect(await lots.findOne({ _id: lot as never })).toMatchObject({ holder: DEAD, holdUntil: past });
  for (const text of [(await messages.findOne({ _id: m1._id as never }))!.batch as string, (await batches.findOne({ lot }))!.deliveries as string]) {
    expect(text).toContain('"holder"');
    for (const f of OLD_FIELDS) expect(text).not.toContain(`"${f}"`);
  }
  const indexed = async (col: typeof queue) => (await col.listIndexes().toArray()).map((ix) => Object.keys(ix.key as object).join(","));
  expect(await indexed(queue)).toEqual(expect.arrayContaining(["nextAttemptAt,holdUntil", "takeToken", "holder"]));
  expect(await indexed(lots)).toEqual(expect.arrayContaining(["holder", "takeToken"]));
  for (const key of [...(await indexed(queue)), ...(await indexed(lots))]) for (const f of OLD_FIELDS) expect(key).not.toContain(f);

  // Listed as before: everything pending but the logged one.
  const all = await store.log.list({ tenant: "acme", limit: 50 });
  expect(ids(all)).toEqual(ids([...inMessage, inRow, released, deadHeld, liveHeld, later, logged] as Delivery[]));
  expect(all.filter((d) => d.status !== "pending").map((d) => d._id)).toEqual([logged._id]);
  expect((await store.log.get("acme", logged._id))!.attempts.map((a) => a.statusCode)).toEqual([200]);

  // Taken: the dead process's lot (walked) and rows, and the released retry; not what a live process holds, nor what is not due.
  expect(Date.now()).toBeLessThan(liveUntil.getTime() - 500); // the premise: the live hold has not run out yet
  const taken = await store.queue.takeDue(new Date(), 100);
  expect(ids(taken)).toEqual(ids([...inMessage, inRow, released, deadHeld] as Delivery[]));
  for (const t of taken) await store.queue.record(t, delivered(t), false);
  expect(await store.queue.flush(Date.now() + 5000)).toBe(true);
  expect(ids(await store.log.list({ tenant: "acme", status: "delivered", limit: 50 }))).toEqual(ids([...taken.map((t) => t.delivery), logged]));
  // The lot ends (removed just after the outcomes that end it are stored): each of its deliveries has its row.
  expect(await within(5000, async () => (await lots.countDocuments({})) === 0)).toBe(true);

  // Once the live process's hold runs out (it stopped renewing), its delivery is taken over.
  let takenOver: HeldDelivery[] = [];
  await within(liveUntil.getTime() - Date.now() + 5000, async () => (takenOver = await store.queue.takeDue(new Date(), 100)).length > 0);
  expect(Date.now()).toBeGreaterThanOrEqual(liveUntil.getTime());
  expect(ids(takenOver)).toEqual([liveHeld._id]);
  await store.queue.record(takenOver[0]!, delivered(takenOver[0]!), false);
  expect(await store.queue.flush(Date.now() + 5000)).toBe(true);
  const after = await store.log.list({ tenant: "acme", limit: 50 });
  expect(after.filter((d) => d.status === "pending").map((d) => d._id)).toEqual([later._id]);
  expect(await db.collection<Document>("hookwire_meta").findOne({ _id: "hold-fields-renamed" as never })).not.toBeNull();
});
