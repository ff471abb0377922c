// Hookwire's signatures on Node (node:crypto), the one implementation the server signs and checks with.
// Synchronous, as the seed WebhookManager's sign() and verify() and the server's hot path want; the
// published @hookwire/sdk/node wraps it in the asynchronous shape its Web Crypto twin has. The rules are
// rules/signature.ts's.
import { createHmac, randomBytes } from "node:crypto";
import { GITHUB_PREFIX, planGithub, planStandard, requireSecret, requireStandardInputs, SECRET_PREFIX, standardKeyBase64, standardPrefix, STANDARD_PREFIX, matchReason, type Body, type CheckPlan, type StandardVerifyInput } from "../rules/signature.js";

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

/** Standard Webhooks: "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")); `secret` may be the key itself. */
export function signStandard(webhookId: string, timestamp: number, body: Body, secret: string | Uint8Array): string {
  requireStandardInputs(webhookId, timestamp);
  const key = typeof secret === "string" ? standardWebhooksKey(secret) : secret;
  return STANDARD_PREFIX + hmac(key, standardPrefix(webhookId, timestamp), body).digest("base64");
}

/** Empty when one of the signatures matches and the timestamp is within tolerance, else why not. */
export function checkStandard(input: StandardVerifyInput): string {
  return finish(planStandard(input, standardWebhooksKey));
}

export function verifyStandard(input: StandardVerifyInput): boolean {
  return checkStandard(input) === "";
}
