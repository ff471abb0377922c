import { randomBytes } from "node:crypto";
import { invalid } from "./errors.js";

/** Random bytes drawn 4 KiB at a time: a call into the system's generator per id cost 2 % of a busy server. */
let pool = Buffer.alloc(0);
let used = 0;
function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    pool = randomBytes(4096);
    used = 0;
  }
  used += bytes;
  return pool.toString("hex", used - bytes, used);
}

/** "prefix_" + base36 milliseconds (fixed width) + 80 random bits: ids sort by creation time, which list pagination relies on. */
export function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36).padStart(9, "0")}${randomHex(10)}`;
}

/** The lowest id `newId(prefix)` can make at `ms` and later, and above every id made before: a bound for a range of creation times. */
export function idFloor(prefix: string, ms: number): string {
  return `${prefix}_${Math.max(0, Math.floor(ms)).toString(36).padStart(9, "0")}`;
}

/** Page tokens are opaque to callers: the last id of the previous page, base64url-encoded. */
export function encodePageToken(lastId: string): string {
  return Buffer.from(lastId, "utf8").toString("base64url");
}

export function decodePageToken(token: string, prefix: string): string | undefined {
  if (token === "") return undefined;
  const id = Buffer.from(token, "base64url").toString("utf8");
  if (!id.startsWith(`${prefix}_`) || !/^[a-z]+_[0-9a-z]+$/.test(id)) {
    throw invalid("page_token", "is not a token this list returned");
  }
  return id;
}
