// One-time migrations of databases written by earlier versions: each runs once per database, and a marker
// document in hookwire_meta records that it ran (every later start reads only the marker).
import type { Collection, Filter, UpdateFilter } from "mongodb";
import { upserting } from "./duplicate-key.js";

/** Runs `run` unless `marker` says it ran, then marks it. */
export async function runOnce<T extends { _id: string }>(meta: Collection<T>, marker: string, run: () => Promise<void>): Promise<void> {
  const filter = { _id: marker } as Filter<T>;
  if (await meta.findOne(filter)) return;
  await run();
  // Two processes opening a database at once may both run it (migrations are idempotent) and both mark it.
  await upserting(() => meta.updateOne(filter, { $set: { at: new Date() } } as unknown as UpdateFilter<T>, { upsert: true }));
}
