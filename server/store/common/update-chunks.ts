// Bulk updates in commands FerretDB can finish. FerretDB 1.24 keeps the cursor of every update statement
// in a command open until the command ends; past about a hundred statements its SQLite connections run
// out and the command waits for ever (and every other command with it). So updates go in commands of a
// few dozen statements, in either layout: the MongoDB layout runs on FerretDB too.
import type { AnyBulkWriteOperation, Collection, Document } from "mongodb";

export const UPDATES_PER_COMMAND = 50;

export async function updatesInChunks<T extends Document>(col: Collection<T>, ops: AnyBulkWriteOperation<T>[]): Promise<void> {
  for (let i = 0; i < ops.length; i += UPDATES_PER_COMMAND) {
    await col.bulkWrite(ops.slice(i, i + UPDATES_PER_COMMAND), { ordered: false });
  }
}
