// Customer portal sessions (issue 24): a short-lived credential for one owner of one tenant. The token is
// shown once; the store keeps only its SHA-256 digest, so a copy of the database opens no portal.
import { createHash, randomBytes } from "node:crypto";
import { invalid } from "./errors.js";
import { LIMITS, unprintableIn } from "./validation.js";

export type PortalColorScheme = "" | "light" | "dark";

/** How the portal looks (PortalTheme in portal.proto); an empty field means the portal's default. */
export interface PortalTheme {
  accentColor: string;
  logoUrl: string;
  colorScheme: PortalColorScheme;
  title: string;
}

export const NO_THEME: PortalTheme = Object.freeze({ accentColor: "", logoUrl: "", colorScheme: "", title: "" });

/** One stored session. */
export interface PortalSession {
  /** SHA-256 of the token, hex: the only form of it that is kept. */
  digest: string;
  tenant: string;
  /** The owner it is for: never empty. */
  owner: string;
  createdAt: Date;
  expiresAt: Date;
  /** Absent when it was not asked for (the check of every call reads none). */
  theme?: PortalTheme;
}

export const PORTAL_LIMITS = {
  ttlDefaultSeconds: 3600,
  ttlMaxSeconds: 86_400,
  /** A logo given as a data: URL, the whole URL. */
  logoDataBytes: 32 * 1024,
  titleLength: 100,
} as const;

export const PORTAL_TOKEN_PREFIX = "hwp_";
/** "hwp_" and base64url of 32 bytes. */
const TOKEN = /^hwp_[A-Za-z0-9_-]{43}$/;

/** A new session token. */
export function newPortalToken(): string {
  return PORTAL_TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

/** Whether a presented credential has a portal token's form (anything else is never looked up). */
export function isPortalToken(token: string): boolean {
  return TOKEN.test(token);
}

/** What the store keys a session by. */
export function portalTokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** ttl_seconds: 0 for the default, else 1 to the maximum; answered in seconds. */
export function validatePortalTtl(ttl: bigint, field = "ttl_seconds"): number {
  if (ttl === 0n) return PORTAL_LIMITS.ttlDefaultSeconds;
  if (ttl < 1n || ttl > BigInt(PORTAL_LIMITS.ttlMaxSeconds)) {
    throw invalid(field, `${ttl} is outside 1..${PORTAL_LIMITS.ttlMaxSeconds} seconds (0 for the default, ${PORTAL_LIMITS.ttlDefaultSeconds})`);
  }
  return Number(ttl);
}

const ACCENT = /^#[0-9a-fA-F]{6}$/;
const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/]+={0,2}$/;
/**
 * Printable ASCII without white space, quotes, backslash or angle brackets: a logo URL can then go into
 * an attribute or a CSS url() as it is. Such characters are percent-encoded in any URL that needs them.
 */
const URL_CHARS = /^[\x21\x23-\x26\x28-\x3b\x3d\x3f-\x5b\x5d-\x5f\x61-\x7e]+$/;

function validateLogoUrl(raw: string, field: string): string {
  if (raw === "") return raw;
  if (raw.startsWith("data:")) {
    if (raw.length > PORTAL_LIMITS.logoDataBytes) throw invalid(field, `is ${raw.length} bytes, over the limit of ${PORTAL_LIMITS.logoDataBytes} bytes for a data: URL`);
    if (!DATA_IMAGE.test(raw)) throw invalid(field, "a data: URL must be data:image/(png|jpeg|gif|webp|svg+xml);base64,<base64>");
    return raw;
  }
  if (raw.length > LIMITS.urlLength) throw invalid(field, `is longer than ${LIMITS.urlLength} characters`);
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // reported below
  }
  if (!url || url.protocol !== "https:") throw invalid(field, "must be an https: URL or a data:image/…;base64 URL");
  if (url.username || url.password) throw invalid(field, "must not contain credentials");
  if (!URL_CHARS.test(raw)) throw invalid(field, "holds white space, a quote, a backslash, an angle bracket or a non-ASCII character (percent-encode them)");
  return raw;
}

/** A theme as asked for; each bad field refused by its name under `field` ("theme.accent_color"). */
export function validatePortalTheme(theme: PortalTheme, field = "theme"): PortalTheme {
  if (theme.accentColor !== "" && !ACCENT.test(theme.accentColor)) {
    throw invalid(`${field}.accent_color`, `"${theme.accentColor.slice(0, 40)}" is not a colour written "#rrggbb"`);
  }
  validateLogoUrl(theme.logoUrl, `${field}.logo_url`);
  if ([...theme.title].length > PORTAL_LIMITS.titleLength) throw invalid(`${field}.title`, `is longer than ${PORTAL_LIMITS.titleLength} characters`);
  const bad = unprintableIn(theme.title);
  if (bad) throw invalid(`${field}.title`, bad);
  return { accentColor: theme.accentColor, logoUrl: theme.logoUrl, colorScheme: theme.colorScheme, title: theme.title };
}
