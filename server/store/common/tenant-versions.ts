// Change versions, which caches check before they serve: the version in the document of each key asked
// for (a tenant's catalog, an owner's subscriptions), read by _id, the one filter FerretDB answers without
// a scan (it matches an $in list against every document, so several keys are several reads, a few at
// once). Concurrent askers share the reads; each read starts after its askers arrived, so it sees every
// change answered before.
import type { Collection, Filter } from "mongodb";
import { GroupCommit } from "./group-commit.js";

/** Reads by _id in flight at once. */
const AT_ONCE = 8;

/** The versions `version` finds in the documents keyed by the asked ids; 0 for a key with none yet. */
export function tenantVersions<D extends { _id: string }>(col: Collection<D>, version: (doc: D) => number | undefined): GroupCommit<string, number> {
  return new GroupCommit(async (keys) => {
    const unique = [...new Set(keys)];
    const byId = new Map<string, number | undefined>();
    for (let i = 0; i < unique.length; i += AT_ONCE) {
      await Promise.all(
        unique.slice(i, i + AT_ONCE).map(async (_id) => {
          const doc = await col.findOne({ _id } as Filter<D>);
          byId.set(_id, doc ? version(doc as D) : undefined);
        }),
      );
    }
    return keys.map((k) => byId.get(k) ?? 0);
  });
}
