// Deleting documents by id wherever FerretDB may hold them (the FerretDB layout, and the collections both
// layouts share): a deleteOne statement per id in an unordered bulk write, which FerretDB answers from its
// _id index, where an $in list of ids is matched against every row it reads. (The MongoDB layout's own
// collection keeps $in, which MongoDB answers from its index.)
import type { AnyBulkWriteOperation, Collection, Filter } from "mongodb";

/** Deletes the documents with these ids (a missing one is no error), at most `perCommand` statements a command. */
export async function deleteById<T extends { _id: string }>(col: Collection<T>, ids: string[], perCommand = ids.length): Promise<void> {
  const step = Math.max(1, perCommand);
  for (let i = 0; i < ids.length; i += step) {
    const ops = ids.slice(i, i + step).map((_id): AnyBulkWriteOperation<T> => ({ deleteOne: { filter: { _id } as Filter<T> } }));
    await col.bulkWrite(ops, { ordered: false });
  }
}
