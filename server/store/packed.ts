// Deliveries in the shape FerretDB stores cheaply: JSON text in one string field rather than nested
// documents. FerretDB writes a type schema beside every field and SQLite re-reads a document for each
// of its indexes, so a nested delivery costs more than its text does (bench/outcome-shapes.ts: message
// documents 1.9x and log rows 1.4x as many a second, packed). Only the fields a filter or an index
// names stay top-level. Documents written before packing are read as they are.
import type { Attempt } from "../ports.js";
import { UNLEASED, type DeliveryDoc } from "./deliveries.js";

/** A delivery log row: what list filters and indexes read, and the rest as JSON text in `d`. */
export interface LogRow {
  _id: string;
  tenant: string;
  messageId: string;
  subscriptionId: string;
  status: DeliveryDoc["status"];
  d: string;
}

type Revivable = Record<string, unknown> & { attempts?: Array<Attempt & { at: unknown }> };

function revive(o: Revivable): Revivable {
  for (const f of ["createdAt", "updatedAt", "nextAttemptAt", "leaseUntil"]) if (typeof o[f] === "string") o[f] = new Date(o[f] as string);
  for (const a of o.attempts ?? []) if (typeof a.at === "string") a.at = new Date(a.at);
  return o;
}

export function packDeliveries(docs: DeliveryDoc[]): string {
  return JSON.stringify(docs);
}

/** A batch as stored: packed text, or the array an earlier version wrote. */
export function unpackDeliveries(stored: string | DeliveryDoc[] | undefined): DeliveryDoc[] {
  if (stored === undefined) return [];
  if (typeof stored !== "string") return stored;
  return (JSON.parse(stored) as Revivable[]).map((o) => revive(o) as unknown as DeliveryDoc);
}

export function toLogRow(doc: DeliveryDoc): LogRow {
  const { _id, tenant, messageId, subscriptionId, status, claimToken: _c, leaseOwner: _o, leaseUntil: _u, ...rest } = doc;
  return { _id, tenant, messageId, subscriptionId, status, d: JSON.stringify(rest) };
}

/** A log row as a delivery (finished: nobody holds it); a row an earlier version wrote unpacked is one already. */
export function fromLogRow(row: LogRow | DeliveryDoc): DeliveryDoc {
  if (!("d" in row) || typeof row.d !== "string") return row as DeliveryDoc;
  const { d, ...top } = row;
  return { ...(revive(JSON.parse(d) as Revivable) as unknown as DeliveryDoc), ...top, leaseOwner: "", leaseUntil: UNLEASED };
}
