// Indexes that list pages walk. Our FerretDB build (scripts/ferretdb/hookwire_pushdown.go) answers a
// find sorted by _id with a limit, whose filter is string equalities on an index's leading keys (and a
// range on _id), by reading just the page's rows through an index whose keys are those fields then
// _id, when that index is named hookwire_strings_…: the name declares that every _id of the collection
// is a string of [A-Za-z0-9_-] and the index's other keys are strings. That holds for every collection
// here: ids come from server/domain/ids.ts, tenants, message and subscription ids and states are strings.
// Without the name, FerretDB reads every row the equalities select and sorts them in Go. MongoDB proper
// walks any such index; the name means nothing to it.
import type { Collection, Document } from "mongodb";

/** What the index needs of a collection, whatever its documents. */
export type Indexed = Pick<Collection<Document>, "listIndexes" | "dropIndex" | "createIndex">;

export const WALK_INDEX_PREFIX = "hookwire_strings_";

/** Creates the walkable index on `fields` then _id; an index of the same keys made by an earlier version under another name is replaced. */
export async function ensureWalkIndex(col: Indexed, fields: string[]): Promise<void> {
  const key: Record<string, 1> = {};
  for (const f of fields) key[f] = 1;
  key._id = 1;
  const name = `${WALK_INDEX_PREFIX}${fields.join("_")}`;
  const sameKey = (k: Record<string, unknown>) => JSON.stringify(Object.keys(k)) === JSON.stringify(Object.keys(key)) && Object.values(k).every((v) => v === 1);
  const existing = await col.listIndexes().toArray().catch(() => [] as Document[]);
  if (existing.some((ix) => ix.name === name)) return;
  for (const ix of existing) if (sameKey(ix.key as Record<string, unknown>)) await col.dropIndex(ix.name as string);
  await col.createIndex(key, { name });
}
