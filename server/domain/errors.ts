// Domain errors, each meaning one gRPC status; the RPC layer maps them, the domain never imports Connect.
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

export type ErrorKind = "invalid" | "not_found" | "already_exists" | "exhausted" | "unavailable" | "failed_precondition";

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

/** A setting (or a file standing for one) that cannot be used: the process stops with one line naming it. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Bad input: the message starts with the field it is about. */
export function invalid(field: string, message: string): DomainError {
  return new DomainError("invalid", `${field}: ${message}`);
}

/** Nothing (of this tenant) has that id: the message starts with the field that carried it. */
export function notFound(field: string, what: string, id: string): DomainError {
  return new DomainError("not_found", `${field}: ${what} "${id}" not found`);
}

/**
 * True when the error means MongoDB cannot be reached (as opposed to refusing a request). A bulk write
 * (insertMany, bulkWrite) wraps a connection refused or reset in a MongoBulkWriteError that keeps the
 * driver's error as its errorResponse (no cause): followed too, with causes, so a store killed in the
 * middle of a Trigger answers UNAVAILABLE, not INTERNAL.
 */
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
export type StoreWriteFault = "disk_full" | "cannot_write";

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

/** What a caller is told when the store refused to write for a reason of its own. */
export function storeWriteFaultMessage(fault: StoreWriteFault): string {
  return fault === "disk_full"
    ? "the database cannot write: its disk is full; the request was not completed, try again once space is freed"
    : "the database cannot write; the request was not completed, try again";
}
