// Input rules shared by every RPC that accepts subscriptions and events; each failure names its field.
import { BlockList, isIP } from "node:net";
import { SECRET_PREFIX, standardWebhooksKey } from "../sdk/signature.js";
import { invalid } from "./errors.js";

export const LIMITS = {
  urlLength: 2048,
  eventsPerSubscription: 64,
  eventNameLength: 128,
  descriptionLength: 512,
  secretMinBytes: 24,
  secretMaxBytes: 64,
  pageSizeDefault: 50,
  pageSizeMax: 100,
  idempotencyKeyLength: 256,
} as const;

/** Letters, digits, '_' and '-' in dot-separated segments: "order.created", "invoice.payment_failed". */
export const EVENT_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Addresses a subscriber URL may not reach unless private URLs are allowed: loopback, private, link-local, metadata, reserved. */
const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  blocked.addSubnet(net, prefix, "ipv6");
}

/** True when the IP address is loopback, private, link-local or otherwise not a public destination. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family !== 6) return true;
  const lower = address.toLowerCase();
  // IPv4-mapped and NAT64 addresses reach the embedded IPv4 address.
  const embedded = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (embedded?.[1]) return blocked.check(embedded[1], "ipv4");
  const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (mappedHex?.[1] && mappedHex[2]) {
    const hi = parseInt(mappedHex[1], 16);
    const lo = parseInt(mappedHex[2], 16);
    return blocked.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, "ipv4");
  }
  return blocked.check(address, "ipv6");
}

export function validateUrl(raw: string, allowPrivate: boolean, field = "url"): string {
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
  if (!allowPrivate) {
    const host = url.hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
    const local = host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal");
    if (local || (isIP(host) !== 0 && isPrivateAddress(host))) {
      throw invalid(field, `host "${host}" is a loopback, private or link-local address (set HOOKWIRE_ALLOW_PRIVATE_URLS=true to allow)`);
    }
  }
  return raw;
}

/** A subscription's event filters: exact names, "prefix.*" or "*". */
export function validateEventFilters(events: readonly string[], field = "events"): string[] {
  if (events.length === 0) throw invalid(field, "must list at least one event type (\"*\" for all)");
  if (events.length > LIMITS.eventsPerSubscription) {
    throw invalid(field, `lists ${events.length} event types; at most ${LIMITS.eventsPerSubscription} are allowed`);
  }
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

/** True when a subscription's filters match a concrete event type. */
export function eventMatches(filters: readonly string[], event: string): boolean {
  for (const f of filters) {
    if (f === "*" || f === event) return true;
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

export function validateDescription(description: string, field = "description"): string {
  if (description.length > LIMITS.descriptionLength) {
    throw invalid(field, `is longer than ${LIMITS.descriptionLength} characters`);
  }
  return description;
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

export const POLICY_LIMITS = {
  retries: [0, 20],
  retryDelayMs: [10, 3_600_000],
  timeoutMs: [100, 300_000],
} as const;

export interface PolicyInput {
  retries?: number | undefined;
  retryDelayMs?: number | undefined;
  timeoutMs?: number | undefined;
}

/** Checks the delivery policy fields that are set; unset ones stay unset. */
export function validatePolicy(input: PolicyInput): PolicyInput {
  const check = (value: number | undefined, field: string, [min, max]: readonly [number, number]) => {
    if (value !== undefined && (value < min || value > max)) throw invalid(field, `${value} is outside ${min}..${max}`);
    return value;
  };
  return {
    retries: check(input.retries, "retries", POLICY_LIMITS.retries),
    retryDelayMs: check(input.retryDelayMs, "retry_delay_ms", POLICY_LIMITS.retryDelayMs),
    timeoutMs: check(input.timeoutMs, "timeout_ms", POLICY_LIMITS.timeoutMs),
  };
}
