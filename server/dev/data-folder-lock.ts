// One server per data folder: a lock file naming its owner, created atomically, released at exit, and taken
// over when its owner has died (kill -9 leaves it behind).
import { linkSync, mkdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const LOCK_FILE = "hookwire.lock";

export class DataFolderInUseError extends Error {
  override name = "DataFolderInUseError";
  constructor(
    readonly dir: string,
    readonly ownerPid: number,
  ) {
    super(`the data folder ${dir} is in use by process ${ownerPid}: stop that server first, or set HOOKWIRE_DATA_DIR to another folder`);
  }
}

/** A guard folder older than this was left by a process that died in the middle of a take-over. */
const STALE_GUARD_MS = 5000;

/**
 * Takes the folder's lock or throws DataFolderInUseError naming the live owner. The lock is released when
 * this process exits.
 */
export function lockDataFolder(dir: string): void {
  const lock = join(dir, LOCK_FILE);
  const mine = ownerLine(process.pid);
  for (let attempt = 0; attempt < 200; attempt++) {
    if (createExclusively(lock, mine)) {
      process.once("exit", () => release(lock, mine));
      return;
    }
    const held = readOrUndefined(lock);
    if (held === undefined) continue; // released meanwhile: try again
    const owner = parseOwner(held);
    if (owner && isAlive(owner)) throw new DataFolderInUseError(dir, owner.pid);
    removeStale(lock, held);
  }
  throw new Error(`could not take the lock ${lock}`);
}

/** "pid start-time": the start time (from /proc) tells a live owner from an unrelated process reusing its pid. */
function ownerLine(pid: number): string {
  return `${pid} ${startTime(pid) ?? "-"}\n`;
}

function parseOwner(text: string): { pid: number; start: string } | undefined {
  const [pid, start] = text.trim().split(" ");
  const n = Number(pid);
  return Number.isSafeInteger(n) && n > 0 && start ? { pid: n, start } : undefined;
}

/** Written to a private name first and linked into place: link fails if the lock exists, and a reader never sees half a line. */
function createExclusively(lock: string, content: string): boolean {
  const tmp = `${lock}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  try {
    linkSync(tmp, lock);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Two starters may both find the same stale lock. One at a time (a guard folder, created atomically) re-reads it
 * and removes it only if it is still the stale one, so a lock just taken by the other is never removed.
 */
function removeStale(lock: string, stale: string): void {
  const guard = `${lock}.takeover`;
  try {
    mkdirSync(guard, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    try {
      if (Date.now() - statSync(guard).mtimeMs > STALE_GUARD_MS) rmdirSync(guard);
    } catch {
      // gone meanwhile
    }
    sleepMs(10);
    return;
  }
  try {
    if (readOrUndefined(lock) === stale) unlinkSync(lock);
  } finally {
    rmdirSync(guard);
  }
}

function release(lock: string, mine: string): void {
  try {
    if (readFileSync(lock, "utf8") === mine) unlinkSync(lock);
  } catch {
    // already gone
  }
}

function isAlive(owner: { pid: number; start: string }): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = procStat(owner.pid);
  if (stat === undefined) return owner.pid !== process.pid; // no /proc: trust the pid, except our own
  if (stat.state === "Z") return false; // exited, not yet reaped by its parent
  return owner.start === "-" || owner.start === stat.start;
}

function startTime(pid: number): string | undefined {
  return procStat(pid)?.start;
}

/** State and start time (fields 3 and 22 of /proc/PID/stat; the command name before them may hold spaces). */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const [state, start] = [fields[0], fields[19]];
    return state && start ? { state, start } : undefined;
  } catch {
    return undefined;
  }
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
