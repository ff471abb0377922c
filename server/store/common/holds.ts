// The hold arithmetic both layouts share (a layout names the fields: leaseOwner/leaseUntil in the FerretDB
// layout, holder/holdUntil in the MongoDB one): who holds, until when, and what a claim is marked with.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Delivery } from "../../ports.js";

/** Names this process's holds in the store: host, pid and a random part, so a restarted process is another holder. */
export function newHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

/** A hold taken at `now` lasts holdMs unless it is renewed. */
export function holdFrom(now: number, holdMs: number): Date {
  return new Date(now + holdMs);
}

/**
 * How long a recorded state stays held: a state this process keeps (a retry it attempts itself) is held
 * until holdMs past its next attempt; otherwise not at all (undefined), and any process takes it when due.
 */
export function heldAfterRecord(next: Delivery, keep: boolean, holdMs: number): Date | undefined {
  return keep ? holdFrom(next.nextAttemptAt.getTime(), holdMs) : undefined;
}

/** Marks the rows one take won, so that it can read back exactly those (FerretDB's updates are not atomic). */
export function takeToken(holder: string, now: Date): string {
  return `${holder}:${now.getTime()}:${randomBytes(4).toString("hex")}`;
}

/** A Send's secret is kept only while its delivery is pending: the finished Sends among these, whose secrets go. */
export function finishedSends(docs: Iterable<Delivery>): string[] {
  const ids: string[] = [];
  for (const d of docs) if (d.status !== "pending" && d.subscriptionId === "") ids.push(d._id);
  return ids;
}
