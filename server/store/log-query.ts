// What every store layout shares about reading the delivery log: the filter a DeliveryQuery means,
// and the order its answers come in.
import type { Filter } from "mongodb";
import type { Delivery, DeliveryQuery } from "../ports.js";

/** The query's filter; the caller sorts by _id and limits. */
export function logFilter<T extends Delivery>(q: DeliveryQuery): Filter<T> {
  const filter: Filter<Delivery> = { tenant: q.tenant };
  if (q.messageId) filter.messageId = q.messageId;
  if (q.subscriptionId) filter.subscriptionId = q.subscriptionId;
  if (q.status) filter.status = q.status;
  if (q.afterId) filter._id = { $gt: q.afterId };
  return filter as Filter<T>;
}

/** Id order, which is creation order (ids start with their creation time). */
export function byIdOrder(a: { _id: string }, b: { _id: string }): number {
  return a._id < b._id ? -1 : a._id > b._id ? 1 : 0;
}
