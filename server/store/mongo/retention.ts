// Retention in the MongoDB layout (deliveries.ts beside it): messages oldest first through an index on
// createdAt (their ids are not time-ordered: a message with an idempotency key has a hashed id), and a
// page's pending deliveries and removals each one command through the (tenant, messageId, _id) index.
import type { Collection, Filter } from "mongodb";
import type { MessageDoc } from "../common/messages.js";
import type { DeliveryDoc } from "../common/delivery-doc.js";
import { MessageSweeper, type SweepCandidate } from "../common/retention.js";

/** The page's deliveries, one $or branch per tenant, so each branch is a range of the walk index. */
function ofMessages(candidates: SweepCandidate[]): Filter<DeliveryDoc> {
  const byTenant = new Map<string, string[]>();
  for (const c of candidates) byTenant.set(c.tenant, [...(byTenant.get(c.tenant) ?? []), c._id]);
  return { $or: [...byTenant].map(([tenant, ids]) => ({ tenant, messageId: { $in: ids } })) };
}

export class MongoRetention extends MessageSweeper {
  constructor(
    private readonly messages: Collection<MessageDoc>,
    deliveries: Collection<DeliveryDoc>,
  ) {
    super({
      async oldest(before, skip, limit) {
        return messages
          .find({ createdAt: { $lt: before } }, { projection: { _id: 1, tenant: 1, createdAt: 1 } })
          .sort({ createdAt: 1 })
          .skip(skip)
          .limit(limit)
          .toArray();
      },
      async pending(candidates) {
        const rows = await deliveries.find({ ...ofMessages(candidates), status: "pending" }, { projection: { messageId: 1 } }).toArray();
        return new Set(rows.map((r) => r.messageId));
      },
      async remove(candidates) {
        await deliveries.deleteMany(ofMessages(candidates));
        await messages.deleteMany({ _id: { $in: candidates.map((c) => c._id) } });
      },
    });
  }

  async ensureIndexes(): Promise<void> {
    await this.messages.createIndex({ createdAt: 1 });
  }
}
