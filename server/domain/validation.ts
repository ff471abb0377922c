// Input rules shared by every RPC that accepts subscriptions and events; each failure names its field.
import { hostRefusal, normalHost, type EgressAllowList } from "./egress.js";
import { SECRET_PREFIX, standardWebhooksKey } from "@hookwire/sdk/internal";
import { invalid } from "./errors.js";
import { isOperational, OPERATIONAL_PREFIX } from "./operational-events.js";

export const LIMITS = {
  urlLength: 2048,
  eventNameLength: 128,
  descriptionLength: 512,
  secretMinBytes: 24,
  secretMaxBytes: 64,
  pageSizeDefault: 50,
  pageSizeMax: 100,
  idempotencyKeyLength: 256,
  ownerLength: 256,
  /**
   * Objects and arrays nested in a payload. One limit for every protocol: the decoders stop at about
   * 98 levels for JSON and 49 for binary protobuf (a level there being Value and Struct or ListValue),
   * and GetMessage wraps the payload in two more messages.
   */
  payloadDepth: 32,
} as const;

/** Letters, digits, '_' and '-' in dot-separated segments: "order.created", "invoice.payment_failed". */
export const EVENT_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export { isPrivateAddress } from "./addresses.js";

/**
 * A subscriber URL: absolute http(s), no credentials, and a host the private rule and the egress
 * allow-list (egress.ts) do not refuse where that is decidable before connecting.
 */
export function validateUrl(raw: string, allowPrivate: boolean, field = "url", egress?: EgressAllowList): string {
  if (raw === "") throw invalid(field, "is required");
  if (raw.length > LIMITS.urlLength) throw invalid(field, `is longer than ${LIMITS.urlLength} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(field, `"${raw.slice(0, 100)}" is not an absolute URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalid(field, `scheme "${url.protocol.slice(0, -1)}" is not allowed; use http or https`);
  }
  if (url.username || url.password) throw invalid(field, "must not contain credentials");
  const refusal = hostRefusal(url.hostname, allowPrivate, egress);
  const host = normalHost(url.hostname);
  if (refusal === "private") {
    throw invalid(
      field,
      `host "${host}" is a loopback, private or link-local address (set HOOKWIRE_ALLOW_PRIVATE_URLS=true, or name its network in HOOKWIRE_EGRESS_ALLOW, to allow)`,
    );
  }
  if (refusal === "outside") throw invalid(field, `host "${host}" is outside the networks and hosts this server delivers to (HOOKWIRE_EGRESS_ALLOW)`);
  return raw;
}

/**
 * A subscription's event filters: exact names, "prefix.*" or "*". How many one subscription may list
 * is a quota (server/usecases/quotas.ts), checked by the use case before this.
 */
export function validateEventFilters(events: readonly string[], field = "events"): string[] {
  if (events.length === 0) throw invalid(field, "must list at least one event type (\"*\" for all)");
  const out = new Set<string>();
  events.forEach((event, i) => {
    if (event === "*") {
      out.add(event);
      return;
    }
    const name = event.endsWith(".*") ? event.slice(0, -2) : event;
    if (event.length > LIMITS.eventNameLength || !EVENT_NAME.test(name)) {
      throw invalid(
        `${field}[${i}]`,
        `"${event.slice(0, 140)}" is not an event type: use dot-separated segments of letters, digits, '_' or '-' (at most ${LIMITS.eventNameLength} characters), optionally ending in ".*", or "*"`,
      );
    }
    out.add(event);
  });
  return [...out];
}

/** An event type as triggered: a concrete name, no wildcard. */
export function validateEventName(event: string, field = "event"): string {
  if (event === "") throw invalid(field, "is required");
  if (event.length > LIMITS.eventNameLength || !EVENT_NAME.test(event)) {
    throw invalid(
      field,
      `"${event.slice(0, 140)}" is not an event type: use dot-separated segments of letters, digits, '_' or '-', at most ${LIMITS.eventNameLength} characters`,
    );
  }
  return event;
}

/** An event type a caller triggers or sends: not one of Hookwire's own. */
export function validateCallerEvent(event: string, field = "event"): string {
  validateEventName(event, field);
  if (isOperational(event)) throw invalid(field, `"${event.slice(0, 140)}": event types starting with "${OPERATIONAL_PREFIX}" are Hookwire's own operational events and cannot be triggered or sent`);
  return event;
}

/** True when a subscription's filters match a concrete event type; "*" matches all but Hookwire's own operational events. */
export function eventMatches(filters: readonly string[], event: string): boolean {
  for (const f of filters) {
    if (f === "*") {
      if (!event.startsWith(OPERATIONAL_PREFIX)) return true;
      continue;
    }
    if (f === event) return true;
    if (f.endsWith(".*") && event.startsWith(f.slice(0, -1))) return true;
  }
  return false;
}

/** A subscription secret supplied by a caller: "whsec_" + base64 of 24 to 64 bytes, so every receiver library can use it. */
export function validateSecret(secret: string, field = "secret"): string {
  let bytes = -1;
  if (secret.startsWith(SECRET_PREFIX)) {
    try {
      bytes = standardWebhooksKey(secret).length;
    } catch {
      // not base64: reported below with the rule it breaks
    }
  }
  if (bytes < LIMITS.secretMinBytes || bytes > LIMITS.secretMaxBytes) {
    throw invalid(
      field,
      `must be "whsec_" followed by base64 of ${LIMITS.secretMinBytes} to ${LIMITS.secretMaxBytes} bytes (leave it empty to have one generated)`,
    );
  }
  return secret;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** An RFC 3339 date-time ("2026-11-28T23:42:49.533Z", "2026-11-28T23:42:49+01:00"), checked field by field. */
export function validateTimestamp(value: string, field = "timestamp"): string {
  const m = RFC3339.exec(value);
  const [year, month, day, hour, minute, second, , , offHour, offMinute] = (m?.slice(1) ?? []).map((p) => (p === undefined ? 0 : Number(p)));
  const daysInMonth = m ? new Date(Date.UTC(year!, month!, 0)).getUTCDate() : 0;
  const valid =
    m !== null &&
    value.length <= 64 &&
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysInMonth &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 60 && // a leap second
    offHour! <= 23 &&
    offMinute! <= 59;
  if (!valid) throw invalid(field, `"${value.slice(0, 70)}" is not an RFC 3339 date-time such as "2026-11-28T23:42:49.533Z"`);
  return value;
}

export function validateDescription(description: string, field = "description"): string {
  if (description.length > LIMITS.descriptionLength) {
    throw invalid(field, `is longer than ${LIMITS.descriptionLength} characters`);
  }
  return description;
}

/** Control characters (C0, DEL, C1) and the invisible ones that reorder or hide text (bidi, zero-width). */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/u;

/**
 * An owner: the platform's id for its customer, chosen by the caller. Empty is the tenant itself; otherwise
 * 1-256 printable characters (counted as code points), without spaces at either end (so "a" and "a " are not
 * two owners by accident). Answers it unchanged: owners are compared exactly.
 */
export function validateOwner(owner: string, field = "owner"): string {
  if (owner === "") return owner;
  if ([...owner].length > LIMITS.ownerLength) throw invalid(field, `is longer than ${LIMITS.ownerLength} characters`);
  if (owner.trim() !== owner) throw invalid(field, "starts or ends with white space");
  const bad = unprintableIn(owner);
  if (bad) throw invalid(field, bad);
  return owner;
}

/** What makes text unprintable (said as a refusal's message), or undefined when it is all printable. */
export function unprintableIn(text: string): string | undefined {
  const bad = UNPRINTABLE.exec(text);
  if (bad) return `holds the unprintable character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  if (/\p{Cs}/u.test(text)) return "holds a lone surrogate (not valid UTF-16 text)";
  return undefined;
}

export function validateId(id: string, prefix: string, field = "id"): string {
  if (id === "") throw invalid(field, "is required");
  if (id.length > 64 || !id.startsWith(prefix) || !/^[a-z]+_[0-9a-z]+$/.test(id)) {
    throw invalid(field, `"${id.slice(0, 70)}" is not a ${prefix}… identifier`);
  }
  return id;
}

export function pageSize(requested: number, field = "page_size"): number {
  if (requested < 0) throw invalid(field, "must not be negative");
  if (requested === 0) return LIMITS.pageSizeDefault;
  return Math.min(requested, LIMITS.pageSizeMax);
}
