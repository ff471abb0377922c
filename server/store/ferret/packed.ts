// Deliveries in the shape FerretDB stores cheaply: JSON text in one string field rather than nested
// documents. FerretDB writes a type schema beside every field and SQLite re-reads a document for each
// of its indexes, so a nested delivery costs more than its text does (bench/outcome-shapes.ts: message
// documents 1.9x and log rows 1.4x as many a second, packed). Only the fields a filter or an index
// names stay top-level. Documents written before packing are read as they are.
import type { Attempt } from "../../ports.js";
import { NO_HOLD, type DeliveryDoc } from "../common/delivery-doc.js";

/** A delivery log row: what list filters and indexes read, and the rest as JSON text in `d`. */
export interface LogRow {
  _id: string;
  tenant: string;
  messageId: string;
  subscriptionId: string;
  /** Its subscription's owner ("" for none); absent in rows written before owners. */
  owner?: string;
  status: DeliveryDoc["status"];
  d: string;
}

type Revivable = Record<string, unknown> & { attempts?: Array<Attempt & { at: unknown }> };

function revive(o: Revivable): Revivable {
  for (const f of ["createdAt", "updatedAt", "nextAttemptAt", "holdUntil"]) if (typeof o[f] === "string") o[f] = new Date(o[f] as string);
  for (const a of o.attempts ?? []) if (typeof a.at === "string") a.at = new Date(a.at);
  return o;
}

const DATE_FIELDS = ["createdAt", "updatedAt", "nextAttemptAt", "holdUntil"] as const;

/**
 * The same text JSON.stringify writes, with dates turned into text first: JSON.stringify calling each Date's
 * toJSON is about five times slower than copying strings (153 against 28 ms for 10,000 deliveries on this
 * machine), and the deliveries of one Trigger share their dates, so each is formatted once.
 */
function withDatesAsText<T extends object>(doc: T): T {
  return datesAsText({ ...doc } as Record<string, unknown>) as T;
}

/** The same, on an object of our own making (changed in place). */
function datesAsText(out: Record<string, unknown>): Record<string, unknown> {
  for (const f of DATE_FIELDS) {
    const v = out[f];
    if (v instanceof Date) out[f] = iso(v);
  }
  const attempts = out.attempts;
  if (Array.isArray(attempts) && attempts.length > 0) {
    out.attempts = attempts.map((a: Attempt) => (a.at instanceof Date ? { ...a, at: iso(a.at) } : a));
  }
  return out;
}

/** Date → JSON text as toJSON writes it (null for an invalid date), remembering the last few. */
const recentIso = new Map<number, string | null>();
function iso(d: Date): string | null {
  const t = d.getTime();
  let v = recentIso.get(t);
  if (v === undefined) {
    v = Number.isNaN(t) ? null : d.toISOString();
    if (recentIso.size >= 64) recentIso.clear();
    recentIso.set(t, v);
  }
  return v;
}

/**
 * A batch as JSON text. The deliveries of one Trigger share most fields (tenant, message, event, dates,
 * state, often the policy); those are written once, `{"shared": {…}, "each": [{…}, …]}`, so a fan-out's
 * rows hold about a third of the text (the bytes are what FerretDB and SQLite spend their time on, down
 * to the disk). A single delivery is written as a one-element array, as before.
 */
export function packDeliveries(docs: DeliveryDoc[]): string {
  if (docs.length < 2) return JSON.stringify(docs.map(withDatesAsText));
  const rows = docs as unknown as Array<Record<string, unknown>>;
  const first = rows[0]!;
  const shared: Record<string, unknown> = {};
  for (const key of Object.keys(first)) {
    if (sameInAll(rows, key, first[key])) shared[key] = first[key];
  }
  const each = rows.map((d) => {
    const own: Record<string, unknown> = {};
    for (const k in d) if (!(k in shared)) own[k] = d[k];
    return datesAsText(own);
  });
  return JSON.stringify({ shared: datesAsText(shared), each });
}

function sameInAll(rows: Array<Record<string, unknown>>, key: string, v: unknown): boolean {
  if (v instanceof Date) {
    const t = v.getTime();
    return rows.every((d) => {
      const x = d[key];
      return x === v || (x instanceof Date && x.getTime() === t);
    });
  }
  if (v !== null && typeof v === "object") {
    const text = JSON.stringify(v);
    return rows.every((d) => d[key] === v || JSON.stringify(d[key]) === text);
  }
  return rows.every((d) => d[key] === v);
}

/** A batch as stored: packed text (shared fields and each delivery's own, or an array), or the array an earlier version wrote. */
export function unpackDeliveries(stored: string | DeliveryDoc[] | undefined): DeliveryDoc[] {
  if (stored === undefined) return [];
  if (typeof stored !== "string") return stored;
  const parsed = JSON.parse(stored) as Revivable[] | { shared: Revivable; each: Revivable[] };
  if (Array.isArray(parsed)) return parsed.map((o) => revive(o) as unknown as DeliveryDoc);
  // Each delivery gets its own copy of a shared object (attempts, policy): deliveries are changed one by one.
  const objects = Object.entries(parsed.shared)
    .filter(([, v]) => v !== null && typeof v === "object")
    .map(([k, v]) => [k, JSON.stringify(v)] as const);
  return parsed.each.map((own) => {
    const o: Revivable = { ...parsed.shared, ...own };
    for (const [k, text] of objects) if (!(k in own)) o[k] = JSON.parse(text) as unknown;
    return revive(o) as unknown as DeliveryDoc;
  });
}

export function toLogRow(doc: DeliveryDoc): LogRow {
  const { _id, tenant, messageId, subscriptionId, owner = "", status, takeToken: _t, holder: _h, holdUntil: _u, ...rest } = doc;
  return { _id, tenant, messageId, subscriptionId, owner, status, d: JSON.stringify(datesAsText(rest)) };
}

/** A log row as a delivery (finished: nobody holds it); a row an earlier version wrote unpacked is one already, bar its hold (migrations.ts). */
export function fromLogRow(row: LogRow | DeliveryDoc): DeliveryDoc {
  if (!("d" in row) || typeof row.d !== "string") return { ...(row as DeliveryDoc), holder: "", holdUntil: NO_HOLD };
  const { d, ...top } = row;
  return { ...(revive(JSON.parse(d) as Revivable) as unknown as DeliveryDoc), ...top, holder: "", holdUntil: NO_HOLD };
}
