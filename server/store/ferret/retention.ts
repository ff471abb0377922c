// Retention in the FerretDB layout (deliveries.ts), where only _id lookups, indexed string equalities
// and walks of declared indexes are cheap, and a delete selects its rows the same way.
//
// - The oldest messages: a find with no filter and no sort, which FerretDB answers by reading the
//   table in storage order and stopping at the limit (SQLite's rowid order: messages are written once,
//   when accepted, so it is the order they were created in). By _id would not do: a message with an
//   idempotency key has a hashed id, not a time-ordered one, and createdAt (a date) is never pushed down.
// - Pending: a message whose lot is still stored may have deliveries waiting for their first outcome in
//   its batches; otherwise each delivery has a queue row (waiting for a retry, or a Redeliver) or a
//   log row (finished). Lots are read first: a lot goes only once its deliveries' rows are stored, so a
//   lot gone before the queue is read cannot hide a delivery from it.
// - Removal: a message's log rows by its tenant and id (the equality FerretDB answers from the log's
//   index), then the message by _id. Batch rows belong to lots and go with them (never here), a
//   finished Send's secret went when its delivery was logged.
import type { Collection } from "mongodb";
import type { LotDoc } from "./deliveries.js";
import type { DeliveryDoc } from "../common/delivery-doc.js";
import type { MessageDoc } from "../common/messages.js";
import type { LogRow } from "./packed.js";
import { deleteById } from "../common/delete-by-id.js";
import { MessageSweeper, type RetentionLayout, type SweepCandidate } from "../common/retention.js";

/** Statements per delete command: FerretDB runs each on its own, so a command stays short (see ../common/update-chunks.ts). */
const DELETES_PER_COMMAND = 50;
/** Queue lookups in flight at once. */
const CHECKS_AT_ONCE = 16;

export function ferretdbRetention(cols: {
  messages: Collection<MessageDoc>;
  lots: Collection<LotDoc>;
  queue: Collection<DeliveryDoc>;
  log: Collection<LogRow | DeliveryDoc>;
}): MessageSweeper {
  const layout: RetentionLayout = {
    async oldest(_before, skip, limit) {
      const docs = await cols.messages
        .find({}, { projection: { _id: 1, tenant: 1, createdAt: 1, lot: 1 } })
        .skip(skip)
        .limit(limit)
        .toArray();
      return docs.map((d) => ({ _id: d._id, tenant: d.tenant, createdAt: d.createdAt, ...(d.lot ? { lot: d.lot } : {}) }));
    },

    async pending(candidates) {
      const live = new Set((await cols.lots.find({}, { projection: { _id: 1 } }).toArray()).map((l) => l._id));
      const pending = new Set(candidates.filter((c) => c.lot !== undefined && live.has(c.lot)).map((c) => c._id));
      const rest = candidates.filter((c) => !pending.has(c._id));
      for (let i = 0; i < rest.length; i += CHECKS_AT_ONCE) {
        const chunk = rest.slice(i, i + CHECKS_AT_ONCE);
        // Sorted by _id with a limit: our FerretDB build walks the queue's (tenant, messageId, _id) index for it.
        const found = await Promise.all(
          chunk.map((c) => cols.queue.find({ tenant: c.tenant, messageId: c._id }, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(1).toArray()),
        );
        found.forEach((rows, j) => rows.length > 0 && pending.add(chunk[j]!._id));
      }
      return pending;
    },

    async remove(candidates: SweepCandidate[]) {
      for (let i = 0; i < candidates.length; i += DELETES_PER_COMMAND) {
        const chunk = candidates.slice(i, i + DELETES_PER_COMMAND);
        await cols.log.bulkWrite(chunk.map((c) => ({ deleteMany: { filter: { tenant: c.tenant, messageId: c._id } } })), { ordered: false });
      }
      await deleteById(cols.messages, candidates.map((c) => c._id), DELETES_PER_COMMAND);
    },
  };
  return new MessageSweeper(layout);
}
