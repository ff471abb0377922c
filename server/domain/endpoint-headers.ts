// A subscription's extra request headers (the customer's own token for its endpoint, say): the rules a
// request's map must keep, and how they are answered. Hookwire's own headers and the connection's cannot
// be set: a signature or framing header from a caller would make deliveries lie about what was signed or
// let one request be split into two.
import { invalid } from "./errors.js";

/** One extra header of a subscription, its name in lower case. */
export interface EndpointHeader {
  name: string;
  value: string;
}

export const HEADER_LIMITS = {
  /** Headers one subscription may carry. */
  count: 20,
  /** Names and values together, in characters (each one byte on the wire: names are ASCII, values Latin-1). */
  totalChars: 8 * 1024,
} as const;

/** What answers carry in place of a value (all but GetSubscription's); no request may set it. */
export const HEADER_VALUE_MASK = "********";

/** RFC 9110's token: the only characters a field name may have. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Names Hookwire sets on every delivery: the signatures, the envelope's description, who sends it. */
const HOOKWIRE_SETS = { names: ["content-type", "content-length", "host", "user-agent", "x-webhook-event"], prefixes: ["webhook-", "x-hub-signature"] };
/**
 * Names Hookwire sets on deliveries while traces are on (docs/tracing.md): the attempt's W3C trace context. Refused
 * whether or not they are on now, so turning them on never meets a subscription's own.
 */
const HOOKWIRE_TRACE_SETS = { names: ["traceparent"], prefixes: [] };
/** The connection's own: hop-by-hop and framing headers, which the HTTP client manages. */
const CONNECTION_SETS = { names: ["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "expect"], prefixes: ["proxy-"] };

const among = (name: string, set: { names: string[]; prefixes: string[] }) => set.names.includes(name) || set.prefixes.some((p) => name.startsWith(p));

/** Why a (lower-case) name cannot be set, or undefined when it can. */
function reservedReason(name: string): string | undefined {
  if (among(name, HOOKWIRE_SETS)) return "is set by Hookwire on every delivery and cannot be replaced";
  if (among(name, HOOKWIRE_TRACE_SETS)) return "is set by Hookwire on deliveries (the attempt's trace context, while tracing is on) and cannot be replaced";
  if (among(name, CONNECTION_SETS)) return "is a hop-by-hop or framing header, which the connection manages";
  return undefined;
}

/** A name for an error message: JSON-quoted (so control characters show), cut short. */
const quoted = (name: string) => JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);

/** The first character a value may not hold, described; undefined when there is none. */
function badValueChar(value: string): string | undefined {
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c === 0x0d || c === 0x0a) return "a line break (CR or LF)";
    if (c === 0) return "a NUL character";
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return `the control character U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
    if (c > 0xff) return `the character U+${c.toString(16).toUpperCase().padStart(4, "0")}, beyond Latin-1 (header values are bytes; percent- or base64-encode other text)`;
  }
  return undefined;
}

/**
 * A request's headers map, checked: answers them with names in lower case, in name order. Each failure
 * names its header: `headers["x-token"]: …`.
 */
export function validateHeaders(input: Readonly<Record<string, string>>, field = "headers"): EndpointHeader[] {
  const entries = Object.entries(input);
  if (entries.length > HEADER_LIMITS.count) throw invalid(field, `${entries.length} headers; at most ${HEADER_LIMITS.count}`);
  const out = new Map<string, string>();
  let total = 0;
  for (const [raw, value] of entries) {
    const at = `${field}[${quoted(raw)}]`;
    if (!TOKEN.test(raw)) throw invalid(at, "is not a header name: use letters, digits and !#$%&'*+-.^_`|~ (an RFC 9110 token)");
    const name = raw.toLowerCase();
    const reserved = reservedReason(name);
    if (reserved) throw invalid(at, reserved);
    if (out.has(name)) throw invalid(at, "is given twice (header names are compared ignoring case)");
    const bad = badValueChar(value);
    if (bad) throw invalid(at, `the value holds ${bad}`);
    if (value !== value.replace(/^[ \t]+|[ \t]+$/g, "")) throw invalid(at, "the value starts or ends with white space (receivers would strip it)");
    if (value === HEADER_VALUE_MASK) throw invalid(at, `"${HEADER_VALUE_MASK}" is the mask Hookwire answers in place of a value; send the value itself`);
    total += name.length + value.length;
    out.set(name, value);
  }
  if (total > HEADER_LIMITS.totalChars) throw invalid(field, `names and values add up to ${total} characters; at most ${HEADER_LIMITS.totalChars}`);
  return [...out].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, value]) => ({ name, value }));
}

/** The headers as answered: values in plain text only when asked (GetSubscription), masked otherwise. */
export function answeredHeaders(headers: readonly EndpointHeader[] | undefined, values: boolean): Record<string, string> {
  // fromEntries makes own properties whatever the name, so no name can reach the object's prototype.
  return Object.fromEntries((headers ?? []).map((h) => [h.name, values ? h.value : HEADER_VALUE_MASK]));
}

/** The headers as an attempt sends them (the signed ones are added after, and win). */
export function requestHeaders(headers: readonly EndpointHeader[]): Record<string, string> {
  return Object.fromEntries(headers.map((h) => [h.name, h.value]));
}
