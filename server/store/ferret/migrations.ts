// The FerretDB layout's one-time migrations of databases written by earlier versions, each run once and
// marked done in hookwire_meta (the checks themselves read every row, so they are not repeated at each start).
// They run when a store opens, before it takes or accepts anything; processes of an earlier version must
// be stopped first, since they would go on writing what the migrations have moved.
import type { AnyBulkWriteOperation, Collection, Document, Filter } from "mongodb";
import { newId } from "../../domain/ids.js";
import type { MessageDoc } from "../common/messages.js";
import { UNHELD, type DeliveryDoc } from "../common/delivery-doc.js";
import type { BatchDoc, LotDoc, MetaDoc } from "./deliveries.js";
import { updatesInChunks } from "../common/update-chunks.js";
import { runOnce } from "../common/run-once.js";
import type { LogRow } from "./packed.js";

interface Collections {
  queue: Collection<DeliveryDoc>;
  log: Collection<LogRow | DeliveryDoc>;
  batches: Collection<BatchDoc>;
  messages: Collection<MessageDoc>;
  lots: Collection<LotDoc>;
  meta: Collection<MetaDoc>;
}

/** Runs the migrations not yet marked done, oldest first: each expects the shape the ones before it leave. */
export async function migrate(c: Collections): Promise<void> {
  await forgetLegacySecrets(c);
  await lotLegacyBatches(c);
  await holdFieldsRenamed(c);
}

/** Runs `run` once per database (store/common/run-once.ts). */
function once(c: Collections, marker: string, run: () => Promise<void>): Promise<void> {
  return runOnce(c.meta, marker, run);
}

/**
 * The names versions before this one stored a hold under, and the port's names that replace them. A
 * take's token is not carried over: only the take that wrote it ever reads it back.
 */
const RENAMED = { leaseOwner: "holder", leaseUntil: "holdUntil" } as const;
const LEGACY_TOKEN = "claimToken";
const LEGACY_FIELDS = [...Object.keys(RENAMED), LEGACY_TOKEN];
const LEGACY_UNSET = Object.fromEntries(LEGACY_FIELDS.map((f) => [f, ""]));
const hasLegacyField: Filter<Document> = { $or: LEGACY_FIELDS.map((f) => ({ [f]: { $exists: true } })) };

/**
 * Rows written before secrets were looked up at attempt time carried a copy of them. Removed once
 * (a marker records it), since the check itself reads every row.
 */
function forgetLegacySecrets(c: Collections): Promise<void> {
  return once(c, "delivery-rows-without-secrets", async () => {
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
  });
}

/**
 * Earlier versions kept each held batch's hold in its message document (`batchHeld`) or batch row. Once,
 * those go into one lot that nobody holds, so the first process to look takes them over. (The hold
 * fields they unset are those versions' names: see holdFieldsRenamed.)
 */
function lotLegacyBatches(c: Collections): Promise<void> {
  return once(c, "held-batches-in-lots", async () => {
    const legacy = { batchHeld: "held" } as Filter<MessageDoc>;
    const hasRows = (await c.batches.find({ lot: { $exists: false } } as Filter<BatchDoc>).limit(1).toArray()).length > 0;
    if (!hasRows && (await c.messages.find(legacy).limit(1).toArray()).length === 0) return;
    const lot = newId("lot");
    await c.lots.insertOne({ _id: lot, ...UNHELD, createdAt: new Date() });
    const unheld = { ...LEGACY_UNSET, shard: "" };
    await c.messages.updateMany(legacy, { $set: { lot }, $unset: { batchHeld: "", ...unheld } } as never);
    await c.batches.updateMany({ lot: { $exists: false } } as Filter<BatchDoc>, { $set: { lot }, $unset: unheld } as never);
  });
}

/** A stored object's hold fields under the port's names, changed in place; answers whether any had an old name. */
function renameHoldFields(o: Record<string, unknown>): boolean {
  let changed = false;
  for (const [before, after] of Object.entries(RENAMED)) {
    if (!(before in o)) continue;
    o[after] = o[before];
    delete o[before];
    changed = true;
  }
  if (LEGACY_TOKEN in o) {
    delete o[LEGACY_TOKEN];
    changed = true;
  }
  return changed;
}

/**
 * Earlier versions named a hold's fields leaseOwner, leaseUntil and claimToken; this one names them as
 * the port does: holder, holdUntil, takeToken. Once, every place a hold is read from moves to the new
 * names, so work held, queued or accepted under the old ones is taken and delivered as before:
 * - queue rows and lots, row by row (by _id, in commands of a few dozen updates: update-chunks.ts), after
 *   the indexes on the old names are dropped (ensureIndexes made the new ones before this runs);
 * - the batches of lots still stored (a message document's first batch, and batch rows), whose
 *   deliveries were written with their accepting process's hold: a taken-over lot's walk reads them.
 *   A lot that has ended is never read again, so its messages' batches stay as they were written;
 * - log rows an earlier version wrote unpacked, which carried their last hold: those fields go.
 * A large queue costs a rewrite of each of its rows once (about half a millisecond a row).
 */
function holdFieldsRenamed(c: Collections): Promise<void> {
  return once(c, "hold-fields-renamed", async () => {
    // Untyped: the rows are read in the shape earlier versions wrote.
    for (const col of [c.queue, c.lots] as unknown as Array<Collection<Document>>) {
      await dropIndexesOn(col, LEGACY_FIELDS);
      await renameInRows(col);
    }
    await c.log.updateMany(hasLegacyField as Filter<LogRow | DeliveryDoc>, { $unset: LEGACY_UNSET } as never);
    for await (const { _id: lot } of c.lots.find({}, { projection: { _id: 1 } })) {
      for await (const m of c.messages.find({ lot }, { projection: { batch: 1 } })) {
        const batch = renamedBatch(m.batch);
        if (batch !== undefined) await c.messages.updateOne({ _id: m._id }, { $set: { batch } });
      }
      for await (const row of c.batches.find({ lot }, { projection: { deliveries: 1 } })) {
        const deliveries = renamedBatch(row.deliveries);
        if (deliveries !== undefined) await c.batches.updateOne({ _id: row._id }, { $set: { deliveries } });
      }
    }
  });
}

/** Drops the collection's indexes that name any of `fields` (a collection not made yet has none). */
async function dropIndexesOn(col: Collection<Document>, fields: string[]): Promise<void> {
  const indexes = await col.listIndexes().toArray().catch(() => [] as Document[]);
  for (const ix of indexes) {
    if (Object.keys(ix.key as Record<string, unknown>).some((k) => fields.includes(k))) await col.dropIndex(ix.name as string);
  }
}

/** Renames the hold fields of every row that has old ones, read in one pass and updated by _id. */
async function renameInRows(col: Collection<Document>): Promise<void> {
  let ops: AnyBulkWriteOperation<Document>[] = [];
  const fields = Object.fromEntries(LEGACY_FIELDS.map((f) => [f, 1]));
  for await (const row of col.find(hasLegacyField, { projection: fields })) {
    const { _id, ...hold } = row;
    if (!renameHoldFields(hold)) continue;
    ops.push({ updateOne: { filter: { _id }, update: { $set: hold, $unset: LEGACY_UNSET } } });
    if (ops.length >= 500) {
      await updatesInChunks(col, ops);
      ops = [];
    }
  }
  await updatesInChunks(col, ops);
}

/**
 * A stored batch with its deliveries' hold fields renamed, in the form it was stored in (packed text,
 * packed.ts, or the array versions before packing wrote); undefined when none had an old name. Packed
 * text is renamed as parsed JSON, so every other field keeps the exact text it was written with.
 */
function renamedBatch(stored: string | DeliveryDoc[] | undefined): string | DeliveryDoc[] | undefined {
  if (stored === undefined) return undefined;
  if (typeof stored !== "string") {
    const changed = stored.map((d) => renameHoldFields(d as unknown as Record<string, unknown>));
    return changed.some(Boolean) ? stored : undefined;
  }
  if (!LEGACY_FIELDS.some((f) => stored.includes(`"${f}"`))) return undefined;
  const parsed = JSON.parse(stored) as Array<Record<string, unknown>> | { shared: Record<string, unknown>; each: Array<Record<string, unknown>> };
  const objects = Array.isArray(parsed) ? parsed : [parsed.shared, ...parsed.each];
  return objects.map(renameHoldFields).some(Boolean) ? JSON.stringify(parsed) : undefined;
}
