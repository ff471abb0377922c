// The part of a take's filter that leaves full shares' work in the store: one spelling for both layouts.
// An empty skip adds nothing, so the usual take's filter (and what FerretDB can answer from an index) is
// unchanged; otherwise FerretDB matches the $nin in Go over the due rows it reads, as it does the rest.
import type { TakeWants } from "../../ports.js";

export function skipFilter(skip: string[] | undefined): { subscriptionId?: { $nin: string[] } } {
  return skip && skip.length > 0 ? { subscriptionId: { $nin: skip } } : {};
}

/** The candidates a take keeps: those `wants` answers true for, asked in order (all without it). */
export function wanted<T extends { tenant: string; subscriptionId: string }>(candidates: T[], wants: TakeWants | undefined): T[] {
  return wants ? candidates.filter((c) => wants(c.tenant, c.subscriptionId)) : candidates;
}
