// Which store errors are the store's own refusal to write (UNAVAILABLE, health NOT_SERVING) and which are not,
// on the driver's real error classes.
import { MongoBulkWriteError, MongoNetworkError, MongoServerError } from "mongodb";
import { expect, it } from "vitest";
import { isStoreUnavailable, storeWriteFault } from "../../server/store/common/store-errors.js";

const server = (message: string, code = 1, codeName = "InternalError") => new MongoServerError({ message, errmsg: message, code, codeName });

it("a full disk, as FerretDB's SQLite and MongoDB say it", () => {
  // FerretDB 1.24's answer to an insert on a full tmpfs, word for word.
  expect(storeWriteFault(server("[msg_insert.go:168 handler.(*Handler).MsgInsert] [db.go:167 fsql.(*DB).InTransaction] database or disk is full (13)"))).toBe("disk_full");
  expect(storeWriteFault(server("No space left on device", 14031, "OutOfDiskSpace"))).toBe("disk_full");
  expect(storeWriteFault(server("write failed", 14031, "OutOfDiskSpace"))).toBe("disk_full");
});

it("the store's other refusals to write", () => {
  expect(storeWriteFault(server("disk I/O error (10)"))).toBe("cannot_write");
  expect(storeWriteFault(server("attempt to write a readonly database (8)"))).toBe("cannot_write");
  expect(storeWriteFault(server("not primary", 10107, "NotWritablePrimary"))).toBe("cannot_write");
});

it("found under a wrapping error's cause", () => {
  expect(storeWriteFault(new Error("storing the message failed", { cause: server("database or disk is full (13)") }))).toBe("disk_full");
});

it("not a caller's mistake, an unknown server error, or the same words from elsewhere", () => {
  expect(storeWriteFault(server("E11000 duplicate key error", 11000, "DuplicateKey"))).toBeUndefined();
  expect(storeWriteFault(server("unknown operator: $foo", 2, "BadValue"))).toBeUndefined();
  expect(storeWriteFault(new Error("database or disk is full"))).toBeUndefined(); // not from the store
  expect(storeWriteFault("database or disk is full")).toBeUndefined();
  expect(storeWriteFault(undefined)).toBeUndefined();
});

it("a store that cannot be reached, also inside a bulk write's error (insertMany while the store is killed)", () => {
  const refused = new MongoNetworkError("connect ECONNREFUSED 127.0.0.1:27017");
  expect(isStoreUnavailable(refused)).toBe(true);
  // What the driver throws from insertMany when the connection is refused or reset mid-write (seen as INTERNAL before).
  expect(isStoreUnavailable(new MongoBulkWriteError(refused, {} as never))).toBe(true);
  expect(isStoreUnavailable(new Error("storing failed", { cause: new MongoNetworkError("read ECONNRESET") }))).toBe(true);
  expect(isStoreUnavailable(new MongoBulkWriteError(server("E11000 duplicate key error", 11000, "DuplicateKey"), {} as never))).toBe(false);
  expect(isStoreUnavailable(server("unknown operator: $foo", 2, "BadValue"))).toBe(false);
  // A socket's own error the driver let through unwrapped (write EPIPE to a FerretDB just killed).
  expect(isStoreUnavailable(Object.assign(new Error("write EPIPE"), { code: "EPIPE", errno: -32, syscall: "write" }))).toBe(true);
  expect(isStoreUnavailable(Object.assign(new Error("EPIPE without a syscall"), { code: "EPIPE" }))).toBe(false);
});
