// The hold arithmetic both layouts share (the fields it fills are delivery-doc.ts's): who holds, and until when.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Delivery } from "../../ports.js";
import { UNHELD, type HoldFields } from "./delivery-doc.js";

/** Names this process's holds in the store: host, pid and a random part, so a restarted process is another holder. */
export function newHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

/** A hold taken at `now` lasts holdMs unless it is renewed. */
export function holdFrom(now: number, holdMs: number): Date {
  return new Date(now + holdMs);
}

/**
 * Who holds a recorded state: a state `holder` keeps (a retry it attempts itself) is its own until holdMs
 * past its next attempt; otherwise nobody's, and any process takes it when due.
 */
export function holdAfterRecord(holder: string, next: Delivery, keep: boolean, holdMs: number): Pick<HoldFields, "holder" | "holdUntil"> {
  return keep ? { holder, holdUntil: holdFrom(next.nextAttemptAt.getTime(), holdMs) } : UNHELD;
}

/** A Send's secret is kept only while its delivery is pending: the finished Sends among these, whose secrets go. */
export function finishedSends(docs: Iterable<Delivery>): string[] {
  const ids: string[] = [];
  for (const d of docs) if (d.status !== "pending" && d.subscriptionId === "") ids.push(d._id);
  return ids;
}
