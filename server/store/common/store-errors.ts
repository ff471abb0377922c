// How the database driver's errors read: the store cannot be reached, or it refused a write for a reason of
// its own (a full disk). The one place that knows the driver's error classes and the servers' codes and texts;
// the API hears of it through the StoreFaults port (ports.ts), answered by write-health.ts.
import {
  MongoBulkWriteError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerClosedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoClientClosedError,
  MongoError,
  MongoWriteConcernError,
} from "mongodb";
import type { StoreWriteFault } from "../../ports.js";

/**
 * True when the error means MongoDB cannot be reached (as opposed to refusing a request). A bulk write
 * (insertMany, bulkWrite) wraps a connection refused or reset in a MongoBulkWriteError that keeps the
 * driver's error as its errorResponse (no cause): followed too, with causes, so a store killed in the
 * middle of a Trigger answers UNAVAILABLE, not INTERNAL.
 */
const SOCKET_ERRORS = new Set(["EPIPE", "ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);

export function isStoreUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; depth++) {
    if (
      e instanceof MongoNetworkError ||
      e instanceof MongoServerSelectionError ||
      e instanceof MongoNotConnectedError ||
      e instanceof MongoTopologyClosedError ||
      e instanceof MongoServerClosedError ||
      e instanceof MongoClientClosedError
    ) {
      return true;
    }
    // The driver lets a socket's own error through unwrapped when a write to a connection the server just
    // closed fails (write EPIPE from Connection.writeCommand, seen with FerretDB killed): a system error on the
    // way to the store is the store being unreachable (the store's calls are the only network I/O of a call).
    const sys = e as NodeJS.ErrnoException;
    if (sys.syscall !== undefined && sys.code !== undefined && SOCKET_ERRORS.has(sys.code)) return true;
    e = e instanceof MongoBulkWriteError && e.errorResponse instanceof Error ? e.errorResponse : e.cause;
  }
  return false;
}

/**
 * Why the store refused a write when the fault is its own, not the caller's: "disk_full" when it has no room
 * (FerretDB passes on SQLite's SQLITE_FULL as "database or disk is full"; MongoDB answers OutOfDiskSpace),
 * "cannot_write" for its other transient refusals (I/O errors, a read-only or locked file, a primary stepping
 * down, a write concern not met). Undefined for everything else: a caller's mistake keeps its own answer and an
 * unknown failure stays INTERNAL, so a bug does not pass for a full disk.
 */

const DISK_FULL_TEXT = /database or disk is full|SQLITE_FULL|no space left on device|ENOSPC/i;
const CANNOT_WRITE_TEXT = /disk I\/O error|SQLITE_IOERR|readonly database|SQLITE_READONLY|database is locked|SQLITE_BUSY|unable to open database file/i;
/** OutOfDiskSpace */
const DISK_FULL_CODES = new Set([14031]);
/** NotWritablePrimary, PrimarySteppedDown, InterruptedDueToReplStateChange, ShutdownInProgress, InterruptedAtShutdown, NotPrimaryOrSecondary, WriteConcernFailed */
const CANNOT_WRITE_CODES = new Set([10107, 189, 11602, 91, 11600, 13436, 64]);

export function storeWriteFault(err: unknown): StoreWriteFault | undefined {
  // Our own code may wrap the driver's error; follow a few causes, never a cycle.
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (!(e instanceof MongoError)) continue;
    const text = [e.message, ...writeErrorTexts(e)].join("\n");
    const code = typeof e.code === "number" ? e.code : undefined;
    if (DISK_FULL_TEXT.test(text) || (code !== undefined && DISK_FULL_CODES.has(code))) return "disk_full";
    if (CANNOT_WRITE_TEXT.test(text) || (code !== undefined && CANNOT_WRITE_CODES.has(code))) return "cannot_write";
    if (e.hasErrorLabel("RetryableWriteError") || e instanceof MongoWriteConcernError) return "cannot_write";
  }
  return undefined;
}

/** A bulk write's per-document and write-concern errors carry their own messages (the first is also the error's). */
function writeErrorTexts(e: MongoError): string[] {
  const texts: string[] = [];
  const { writeErrors, writeConcernError } = e as { writeErrors?: unknown; writeConcernError?: { errmsg?: unknown } };
  if (Array.isArray(writeErrors)) for (const w of writeErrors) if (typeof (w as { errmsg?: unknown })?.errmsg === "string") texts.push((w as { errmsg: string }).errmsg);
  if (typeof writeConcernError?.errmsg === "string") texts.push(writeConcernError.errmsg);
  return texts;
}
