// MongoDB's duplicate-key answer (code 11000), which the store uses to find repeats and first-write races: one
// check, for single writes and for the items of a bulk insert.

export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number }).code === 11000;
}

/** Two first-ever upserts of one document can both try to insert it; the loser's retry updates. */
export async function upserting<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return write();
  }
}

/** Indexes of a bulk insert's items that failed as duplicate keys; throws for any other failure. */
export function duplicateIndexes(err: unknown): Set<number> {
  const e = err as { code?: number; writeErrors?: Array<{ code?: number; index?: number }> | { code?: number; index?: number } };
  const list = Array.isArray(e.writeErrors) ? e.writeErrors : e.writeErrors ? [e.writeErrors] : [];
  if (list.length === 0 || !list.every((w) => isDuplicateKey(w) && typeof w.index === "number")) throw err;
  return new Set(list.map((w) => w.index!));
}
