// The one implementation of Hookwire's signatures on Node, used by the server and the SDK alike.
// Synchronous (node:crypto), as the WebhookManager interface wants; the rules live in signature-rules.ts.
import { createHmac, randomBytes } from "node:crypto";
import {
  GITHUB_PREFIX,
  planGithub,
  planStandard,
  requireSecret,
  requireStandardInputs,
  SECRET_PREFIX,
  standardKeyBase64,
  STANDARD_PREFIX,
  matchReason,
  type Body,
  type CheckPlan,
  type StandardVerifyInput,
} from "./signature-rules.js";

export {
  DEFAULT_TOLERANCE_SECONDS,
  GITHUB_PREFIX,
  SECRET_PREFIX,
  SignatureInputError,
  STANDARD_PREFIX,
  type Body,
  type StandardVerifyInput,
} from "./signature-rules.js";

/** A new secret: "whsec_" + base64 of 32 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

/**
 * The Standard Webhooks key of a secret: the base64-decoded part after an optional "whsec_".
 * Throws SignatureInputError when that part is not base64.
 */
export function standardWebhooksKey(secret: string): Buffer {
  const cached = keyCache.get(secret);
  if (cached) return cached;
  const key = Buffer.from(standardKeyBase64(secret), "base64");
  // A delivery signs with the same few secrets over and over; decoding each time costs a fifth of a signature.
  if (keyCache.size >= 1024) keyCache.clear();
  keyCache.set(secret, key);
  return key;
}

const keyCache = new Map<string, Buffer>();

function hmac(key: string | Uint8Array, prefix: string, body: Body) {
  const h = createHmac("sha256", key);
  // One update for a string body: each update crosses into C++, which costs as much as hashing a small body.
  if (typeof body === "string") return h.update(prefix + body);
  return prefix ? h.update(prefix).update(body) : h.update(body);
}

function finish(plan: CheckPlan): string {
  if ("reason" in plan) return plan.reason;
  return matchReason(plan, hmac(plan.key, plan.prefix, plan.body).digest(plan.encoding));
}

/** GitHub style: "sha256=" + hex(HMAC-SHA256(secret as written, body)). */
export function signGithub(body: Body, secret: string): string {
  requireSecret(secret);
  return GITHUB_PREFIX + hmac(secret, "", body).digest("hex");
}

export function verifyGithub(body: Body, signature: string, secret: string): boolean {
  return checkGithub(body, signature, secret) === "";
}

/** Empty when the GitHub-style signature matches, else why not. */
export function checkGithub(body: Body, signature: string, secret: string): string {
  return finish(planGithub(body, signature, secret));
}

/** Standard Webhooks: "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")). */
export function signStandard(webhookId: string, timestamp: number, body: Body, secret: string | Buffer): string {
  requireStandardInputs(webhookId, timestamp);
  const key = typeof secret === "string" ? standardWebhooksKey(secret) : secret;
  return STANDARD_PREFIX + hmac(key, `${webhookId}.${timestamp}.`, body).digest("base64");
}

/** Empty when one of the signatures matches and the timestamp is within tolerance, else why not. */
export function checkStandard(input: StandardVerifyInput): string {
  return finish(planStandard(input, standardWebhooksKey));
}

export function verifyStandard(input: StandardVerifyInput): boolean {
  return checkStandard(input) === "";
}
