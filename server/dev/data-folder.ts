// The data folder (HOOKWIRE_DATA_DIR): the embedded store and the development key, private to its owner.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { lockDataFolder } from "./data-folder-lock.js";

export { DataFolderInUseError } from "./data-folder-lock.js";

/**
 * Readies the folder when something lives in it (the embedded store, the development key, the encryption key): creates it (0700),
 * then, before anything else touches it, takes its lock for the embedded store (one FerretDB per folder; with
 * MONGODB_URI several processes may share a folder for its development key). Folders and files left readable by
 * others (an older version made them 0755/0644) are tightened: group and other lose every permission.
 */
export function prepareDataFolder(config: { dataDir: string; mongodbUri: string | undefined; apiKeys: unknown[] | undefined; encryptionKeys: Buffer[] | undefined }): void {
  const embeddedStore = config.mongodbUri === undefined;
  if (!embeddedStore && config.apiKeys !== undefined && config.encryptionKeys !== undefined) return;
  const dir = config.dataDir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (embeddedStore) lockDataFolder(dir);
  tightenContents(dir);
}

function tightenContents(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue; // removed meanwhile (a lock being taken over, a FerretDB temp file)
    }
    if (st.isSymbolicLink()) continue; // never follow out of the folder
    if ((st.mode & 0o077) !== 0) chmodSync(path, st.mode & 0o7700);
    if (st.isDirectory()) tightenContents(path);
  }
}
