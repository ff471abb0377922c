// A take, as both layouts write it: the rows a layout's update selects are marked with this process's
// hold and a token of this take alone, and the take is what reads back by that token. So a take answers
// exactly the rows its own update won: on MongoDB each row is won by one update only; on FerretDB, whose
// updates are not atomic, two takes may both win a row (a duplicate delivery, never a lost one).
import { randomBytes } from "node:crypto";
import type { Collection, Filter, UpdateFilter } from "mongodb";
import type { HoldFields } from "./delivery-doc.js";

/** A token no other take has: the holder's name, the time and a random part. */
export function takeToken(holder: string, now: Date): string {
  return `${holder}:${now.getTime()}:${randomBytes(4).toString("hex")}`;
}

/**
 * Takes what `mark` updates with the update it is given (the hold and the token), and answers those rows.
 * How the rows are selected is the layout's: what its database answers cheaply.
 */
export async function takeByToken<T extends HoldFields>(
  col: Collection<T>,
  holder: string,
  now: Date,
  holdUntil: Date,
  mark: (hold: UpdateFilter<T>) => Promise<unknown>,
): Promise<T[]> {
  const token = takeToken(holder, now);
  await mark({ $set: { holder, holdUntil, takeToken: token } } as UpdateFilter<T>);
  return (await col.find({ takeToken: token } as Filter<T>).toArray()) as T[];
}
