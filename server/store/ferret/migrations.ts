// The FerretDB layout's one-time migrations of databases written by earlier versions, each run once and
// marked done in hookwire_meta (the checks themselves read every row, so they are not repeated at each start).
import type { Collection, Filter } from "mongodb";
import { newId } from "../../domain/ids.js";
import type { MessageDoc } from "../common/messages.js";
import { UNLEASED, type DeliveryDoc } from "./delivery-doc.js";
import type { BatchDoc, LotDoc, MetaDoc } from "./deliveries.js";
import type { LogRow } from "./packed.js";

interface Collections {
  queue: Collection<DeliveryDoc>;
  log: Collection<LogRow | DeliveryDoc>;
  batches: Collection<BatchDoc>;
  messages: Collection<MessageDoc>;
  lots: Collection<LotDoc>;
  meta: Collection<MetaDoc>;
}

/** Runs the migrations not yet marked done. */
export async function migrate(c: Collections): Promise<void> {
  await forgetLegacySecrets(c);
  await lotLegacyBatches(c);
}

/**
 * Rows written before secrets were looked up at attempt time carried a copy of them. Removed once
 * (a marker records it), since the check itself reads every row.
 */
async function forgetLegacySecrets(c: Collections): Promise<void> {
  const marker = "delivery-rows-without-secrets";
  if (await c.meta.findOne({ _id: marker })) return;
  const unset = { $unset: { secret: "", previousSecrets: "" } } as never;
  await c.queue.updateMany({ secret: { $exists: true } }, unset);
  await c.log.updateMany({ secret: { $exists: true } }, unset);
  for await (const batch of c.batches.find({})) {
    if (typeof batch.deliveries === "string") continue; // packed: written without secrets
    const deliveries = batch.deliveries.map((d) => {
      const { secret: _s, previousSecrets: _p, ...rest } = d as DeliveryDoc & { secret?: string; previousSecrets?: unknown };
      return rest;
    });
    await c.batches.updateOne({ _id: batch._id }, { $set: { deliveries } });
  }
  await c.meta.updateOne({ _id: marker }, { $set: { at: new Date() } }, { upsert: true });
}

/**
 * Earlier versions leased each held batch in its message document (`batchHeld`) or batch row. Once,
 * those go into one lot that nobody holds, so the first process to look takes them over.
 */
async function lotLegacyBatches(c: Collections): Promise<void> {
  const marker = "held-batches-in-lots";
  if (await c.meta.findOne({ _id: marker })) return;
  const legacy = { batchHeld: "held" } as Filter<MessageDoc>;
  const hasRows = (await c.batches.find({ lot: { $exists: false } } as Filter<BatchDoc>).limit(1).toArray()).length > 0;
  if (hasRows || (await c.messages.find(legacy).limit(1).toArray()).length > 0) {
    const lot = newId("lot");
    await c.lots.insertOne({ _id: lot, leaseOwner: "", leaseUntil: UNLEASED, createdAt: new Date() });
    await c.messages.updateMany(legacy, { $set: { lot }, $unset: { batchHeld: "", leaseOwner: "", leaseUntil: "", shard: "", claimToken: "" } } as never);
    await c.batches.updateMany({ lot: { $exists: false } } as Filter<BatchDoc>, { $set: { lot }, $unset: { leaseOwner: "", leaseUntil: "", shard: "", claimToken: "" } } as never);
  }
  await c.meta.updateOne({ _id: marker }, { $set: { at: new Date() } }, { upsert: true });
}
