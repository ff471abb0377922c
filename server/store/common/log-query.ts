// What every store layout shares about reading the delivery log: the filter a DeliveryQuery means, the
// indexes its pages walk, and the order its answers come in.
import type { Filter } from "mongodb";
import type { Delivery, DeliveryQuery } from "../../ports.js";
import { ensureWalkIndex, type Indexed } from "./walk-index.js";

/** The query's filter; the caller sorts by _id and limits. */
export function logFilter<T extends Delivery>(q: DeliveryQuery): Filter<T> {
  const filter: Filter<Delivery> = { tenant: q.tenant };
  if (q.messageId) filter.messageId = q.messageId;
  if (q.subscriptionId) filter.subscriptionId = q.subscriptionId;
  if (q.owner) filter.owner = q.owner;
  if (q.status) filter.status = q.status;
  // Both bounds in one range on _id: the index walk (walk-index.ts) takes at most one.
  if (q.afterId || q.beforeId) filter._id = { ...(q.afterId ? { $gt: q.afterId } : {}), ...(q.beforeId ? { $lt: q.beforeId } : {}) };
  return filter as Filter<T>;
}

/**
 * The walk indexes (walk-index.ts) a collection of deliveries needs so that a page of any query reads
 * only its own rows: one for each set of equalities logFilter can make (the tenant's own serve listing
 * across subscriptions, the failed list).
 */
export async function ensureLogWalkIndexes(col: Indexed): Promise<void> {
  await ensureWalkIndex(col, ["tenant"]);
  await ensureWalkIndex(col, ["tenant", "status"]);
  await ensureWalkIndex(col, ["tenant", "messageId"]);
  await ensureWalkIndex(col, ["tenant", "subscriptionId"]);
  await ensureWalkIndex(col, ["tenant", "subscriptionId", "status"]);
  // One for owners, not two: every index costs each finished delivery's insert, and an owner's failed
  // deliveries are read through its subscriptions' (tenant, subscriptionId, status) walks or filtered
  // from the owner's own rows.
  await ensureWalkIndex(col, ["tenant", "owner"]);
}

/** Whether a delivery read from elsewhere than a filtered find (a batch, memory) is one the query asks for, bar its status. */
export function inQuery(q: DeliveryQuery, d: { _id: string; messageId: string; subscriptionId: string; owner?: string | undefined }): boolean {
  return (
    (!q.messageId || d.messageId === q.messageId) &&
    (!q.subscriptionId || d.subscriptionId === q.subscriptionId) &&
    (!q.owner || d.owner === q.owner) &&
    inIdRange(q, d._id)
  );
}

/** Whether an id falls in the query's range (for deliveries read from elsewhere than a filtered find). */
export function inIdRange(q: DeliveryQuery, id: string): boolean {
  return (!q.afterId || id > q.afterId) && (!q.beforeId || id < q.beforeId);
}

/** Id order, which is creation order (ids start with their creation time). */
export function byIdOrder(a: { _id: string }, b: { _id: string }): number {
  return a._id < b._id ? -1 : a._id > b._id ? 1 : 0;
}
