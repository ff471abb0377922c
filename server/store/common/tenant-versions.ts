// Per-tenant change versions, which caches of a tenant's data check before they serve: the version of
// each tenant asked for, read by _id (the one filter FerretDB answers without a scan). Concurrent askers
// share one read; each read starts after its askers arrived, so it sees every change answered before.
import type { Collection, Filter } from "mongodb";
import { GroupCommit } from "./group-commit.js";

/** The versions `version` finds in the documents keyed by tenant; 0 for a tenant with none yet. */
export function tenantVersions<D extends { _id: string }>(col: Collection<D>, version: (doc: D) => number | undefined): GroupCommit<string, number> {
  return new GroupCommit(async (tenants) => {
    const unique = [...new Set(tenants)];
    const filter = (unique.length === 1 ? { _id: unique[0]! } : { _id: { $in: unique } }) as Filter<D>;
    const docs = await col.find(filter).toArray();
    const byId = new Map<string, number | undefined>(docs.map((d) => [d._id as string, version(d as D)]));
    return tenants.map((t) => byId.get(t) ?? 0);
  });
}
