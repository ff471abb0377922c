// The one implementation of Hookwire's signatures, used by the server and the SDK alike.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export type Body = string | Uint8Array;

export const SECRET_PREFIX = "whsec_";
export const GITHUB_PREFIX = "sha256=";
export const STANDARD_PREFIX = "v1,";
/** How far a Standard Webhooks timestamp may be from now unless told otherwise (the spec's five minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export class SignatureInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "SignatureInputError";
  }
}

/** A new secret: "whsec_" + base64 of 32 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The Standard Webhooks key of a secret: the base64-decoded part after an optional "whsec_".
 * Throws SignatureInputError when that part is not base64, since a silently lenient decode
 * would sign with a key no receiver library derives.
 */
export function standardWebhooksKey(secret: string): Buffer {
  const cached = keyCache.get(secret);
  if (cached) return cached;
  const key = decodeKey(secret);
  // A delivery signs with the same few secrets over and over; decoding each time costs a fifth of a signature.
  if (keyCache.size >= 1024) keyCache.clear();
  keyCache.set(secret, key);
  return key;
}

const keyCache = new Map<string, Buffer>();

function decodeKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (encoded.length === 0 || !STRICT_BASE64.test(encoded)) {
    throw new SignatureInputError(
      "secret",
      'for the Standard Webhooks scheme it must be "whsec_" followed by base64',
    );
  }
  return Buffer.from(encoded, "base64");
}

function requireSecret(secret: string): void {
  if (secret.length === 0) throw new SignatureInputError("secret", "must not be empty");
}

/** GitHub style: "sha256=" + hex(HMAC-SHA256(secret as written, body)). */
export function signGithub(body: Body, secret: string): string {
  requireSecret(secret);
  return GITHUB_PREFIX + createHmac("sha256", secret).update(body).digest("hex");
}

export function verifyGithub(body: Body, signature: string, secret: string): boolean {
  return checkGithub(body, signature, secret) === "";
}

/** Empty when the GitHub-style signature matches, else why not. */
export function checkGithub(body: Body, signature: string, secret: string): string {
  requireSecret(secret);
  if (!signature.startsWith(GITHUB_PREFIX)) return 'signature does not start with "sha256="';
  const given = Buffer.from(signature.slice(GITHUB_PREFIX.length), "hex");
  if (given.length !== 32) return "signature is not 64 hex digits";
  const expected = createHmac("sha256", secret).update(body).digest();
  return timingSafeEqual(given, expected) ? "" : "signature does not match";
}

function standardHmac(key: Buffer, webhookId: string, timestamp: number, body: Body) {
  const hmac = createHmac("sha256", key);
  // One update for a string body: each update crosses into C++, which costs as much as hashing a small body.
  return typeof body === "string" ? hmac.update(`${webhookId}.${timestamp}.${body}`) : hmac.update(`${webhookId}.${timestamp}.`).update(body);
}

function requireStandardInputs(webhookId: string, timestamp: number): void {
  if (webhookId.length === 0) throw new SignatureInputError("webhook_id", "must not be empty");
  if (!Number.isSafeInteger(timestamp) || timestamp <= 0) {
    throw new SignatureInputError("timestamp", "must be positive Unix seconds");
  }
}

/** Standard Webhooks: "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")). */
export function signStandard(webhookId: string, timestamp: number, body: Body, secret: string | Buffer): string {
  requireStandardInputs(webhookId, timestamp);
  const key = typeof secret === "string" ? standardWebhooksKey(secret) : secret;
  return STANDARD_PREFIX + standardHmac(key, webhookId, timestamp, body).digest("base64");
}

export interface StandardVerifyInput {
  webhookId: string;
  timestamp: number;
  body: Body;
  /** One or more space-separated "v1,<base64>" entries, as in the webhook-signature header. */
  signature: string;
  secret: string;
  toleranceSeconds?: number;
  /** Unix seconds; defaults to the clock. */
  now?: number;
}

/** Empty when one of the signatures matches and the timestamp is within tolerance, else why not. */
export function checkStandard(input: StandardVerifyInput): string {
  requireStandardInputs(input.webhookId, input.timestamp);
  const key = standardWebhooksKey(input.secret);
  const tolerance = input.toleranceSeconds && input.toleranceSeconds > 0 ? input.toleranceSeconds : DEFAULT_TOLERANCE_SECONDS;
  const now = input.now ?? Math.floor(Date.now() / 1000);
  if (input.timestamp < now - tolerance) return "timestamp is too old";
  if (input.timestamp > now + tolerance) return "timestamp is too far in the future";
  const expected = standardHmac(key, input.webhookId, input.timestamp, input.body).digest();
  let sawV1 = false;
  const entries = input.signature.includes(" ") ? input.signature.split(" ") : [input.signature];
  for (const entry of entries) {
    if (!entry.startsWith(STANDARD_PREFIX)) continue;
    sawV1 = true;
    const given = Buffer.from(entry.slice(STANDARD_PREFIX.length), "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return "";
  }
  return sawV1 ? "signature does not match" : 'signature has no "v1," entry';
}

export function verifyStandard(input: StandardVerifyInput): boolean {
  return checkStandard(input) === "";
}
