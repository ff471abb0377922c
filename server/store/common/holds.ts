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

/** What deadLocalHolder knows of this process and its host (the real ones unless a test says otherwise). */
export interface HostView {
  hostname: string;
  pid: number;
  /** Whether a process with this pid exists on this host. */
  alive(pid: number): boolean;
}

/**
 * Whether a process with this pid exists here: signal 0 checks without sending. ESRCH means none does;
 * EPERM means one does (another user's); anything else is taken as alive, as it proves nothing.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

const thisHost = (): HostView => ({ hostname: hostname(), pid: process.pid, alive: pidAlive });

/** A holder as newHolder writes it, split; undefined when it is not one (the hostname may not be empty). */
export function parseHolder(holder: string): { hostname: string; pid: number; random: string } | undefined {
  // From the right: the random part and the pid never hold a colon, so whatever precedes them is the hostname.
  const m = /^(.+):([1-9][0-9]{0,9}):([0-9a-f]{1,64})$/.exec(holder);
  if (!m) return undefined;
  const pid = Number(m[2]);
  if (!Number.isSafeInteger(pid) || pid > 0x7fffffff) return undefined;
  return { hostname: m[1]!, pid, random: m[3]! };
}

/**
 * Whether `holder` names a process that is provably dead: one of this same host whose pid no process has
 * now, or whose pid is this very process's while the holder is not ownHolder (a restarted container that got
 * the same pid again). Its holds can then be released at once instead of running out. Anything else (another
 * host, a live pid, a holder not in newHolder's form, this process's own) is not judged dead: its holds run
 * out as they stand. The one place this judgement is made.
 *
 * It assumes one hostname means one pid namespace: processes in separate pid namespaces that share a
 * hostname (containers on the host's network and UTS namespace) would judge each other dead.
 */
export function deadLocalHolder(holder: string, ownHolder: string, host: HostView = thisHost()): boolean {
  if (holder === ownHolder) return false;
  const parsed = parseHolder(holder);
  if (!parsed || parsed.hostname !== host.hostname) return false;
  if (parsed.pid === host.pid) return true;
  return !host.alive(parsed.pid);
}
