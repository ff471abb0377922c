// MongoDB's duplicate-key answer (code 11000), which the store uses to find repeats and first-write races.

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
