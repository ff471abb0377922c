// The rules of Hookwire's two signature schemes, with no crypto and no node: import, so that the Node
// implementation (node/signature.ts) and the Web Crypto one (web/signature.ts) apply exactly the same ones.
// Each check is planned here (inputs validated, what to MAC, which given MACs to compare) and finished
// by the caller's HMAC; `matchReason` then says whether one of the given MACs is the expected one.
// A given MAC is compared as text with the expected MAC's canonical encoding (lowercase hex, padded
// base64), as the standardwebhooks libraries compare: nothing is decoded, and a text that is not an
// encoding of the expected MAC cannot equal it.

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

/** An HMAC-SHA256 to compute, over `prefix` then `body`, and the MACs it may equal. */
export interface MacCheck {
  /** The GitHub style keys with the secret's UTF-8 bytes; Standard Webhooks with its decoded key. */
  key: string | Uint8Array;
  prefix: string;
  body: Body;
  /** How the given MACs are written: the expected one is encoded the same way to compare. */
  encoding: "hex" | "base64";
  given: string[];
}

/** Either why the check fails before any MAC is computed, or the MAC to compute. */
export type CheckPlan = { reason: string } | MacCheck;

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX_MAC = /^[0-9a-fA-F]{64}$/;

/**
 * The base64 text of a secret's Standard Webhooks key: the part after an optional "whsec_". Throws
 * SignatureInputError when it is not strict base64, since a lenient decode would sign with a key no
 * receiver library derives.
 */
export function standardKeyBase64(secret: string): string {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (encoded.length === 0 || !STRICT_BASE64.test(encoded)) {
    throw new SignatureInputError("secret", 'for the Standard Webhooks scheme it must be "whsec_" followed by base64');
  }
  return encoded;
}

export function requireSecret(secret: string): void {
  if (secret.length === 0) throw new SignatureInputError("secret", "must not be empty");
}

export function requireStandardInputs(webhookId: string, timestamp: number): void {
  if (webhookId.length === 0) throw new SignatureInputError("webhook_id", "must not be empty");
  if (!Number.isSafeInteger(timestamp) || timestamp <= 0) {
    throw new SignatureInputError("timestamp", "must be positive Unix seconds");
  }
}

/** What Standard Webhooks signs before the body. */
export function standardPrefix(webhookId: string, timestamp: number): string {
  return `${webhookId}.${timestamp}.`;
}

export function base64ToBytes(b64: string): Uint8Array | undefined {
  if (!STRICT_BASE64.test(b64)) return undefined;
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Bytes as text in a MAC's encoding, for runtimes whose HMAC answers bytes (Web Crypto). */
export function encodeMac(mac: Uint8Array, encoding: MacCheck["encoding"]): string {
  let out = "";
  if (encoding === "hex") {
    for (const b of mac) out += (b < 16 ? "0" : "") + b.toString(16);
    return out;
  }
  for (const b of mac) out += String.fromCharCode(b);
  return btoa(out);
}

/** The GitHub-style check of `signature` ("sha256=" + 64 hex digits) over `body`. */
export function planGithub(body: Body, signature: string, secret: string): CheckPlan {
  requireSecret(secret);
  if (!signature.startsWith(GITHUB_PREFIX)) return { reason: 'signature does not start with "sha256="' };
  const hex = signature.slice(GITHUB_PREFIX.length);
  if (!HEX_MAC.test(hex)) return { reason: "signature is not 64 hex digits" };
  // Hex digits in either case name the same bytes; the expected MAC is written in lowercase.
  return { key: secret, prefix: "", body, encoding: "hex", given: [hex.toLowerCase()] };
}

/**
 * The Standard Webhooks check: the timestamp within tolerance, then one of the "v1," entries. `keyOf`
 * derives the secret's key the caller's way, once the id and timestamp are known to be well-formed.
 */
export function planStandard(input: StandardVerifyInput, keyOf: (secret: string) => Uint8Array): CheckPlan {
  requireStandardInputs(input.webhookId, input.timestamp);
  const key = keyOf(input.secret);
  const tolerance = input.toleranceSeconds && input.toleranceSeconds > 0 ? input.toleranceSeconds : DEFAULT_TOLERANCE_SECONDS;
  const now = input.now ?? Math.floor(Date.now() / 1000);
  if (input.timestamp < now - tolerance) return { reason: "timestamp is too old" };
  if (input.timestamp > now + tolerance) return { reason: "timestamp is too far in the future" };
  // Walked in place rather than split and filtered: the arrays cost a tenth of a verification.
  const signature = input.signature;
  const given: string[] = [];
  for (let start = 0; start < signature.length; ) {
    let end = signature.indexOf(" ", start);
    if (end < 0) end = signature.length;
    if (signature.startsWith(STANDARD_PREFIX, start)) given.push(signature.slice(start + STANDARD_PREFIX.length, end));
    start = end + 1;
  }
  if (given.length === 0) return { reason: 'signature has no "v1," entry' };
  return { key, prefix: standardPrefix(input.webhookId, input.timestamp), body: input.body, encoding: "base64", given };
}

/** Compares in time independent of where the texts differ (only their lengths show). */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Empty when one of the given MACs is the expected one (its text in the check's encoding), else why not. */
export function matchReason(check: MacCheck, expected: string): string {
  let matched = false;
  for (const mac of check.given) if (constantTimeEqual(mac, expected)) matched = true;
  return matched ? "" : "signature does not match";
}
