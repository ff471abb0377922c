// Hookwire's signatures on Web Crypto, for runtimes without node:crypto (Workers, Deno, Bun,
// browsers): asynchronous, since crypto.subtle is. The rules are rules/signature.ts's, the same the
// Node implementation (node/signature.ts) applies.
import { base64ToBytes, encodeMac, GITHUB_PREFIX, matchReason, planGithub, planStandard, requireSecret, requireStandardInputs, SECRET_PREFIX, standardKeyBase64, standardPrefix, STANDARD_PREFIX, type Body, type CheckPlan, type StandardVerifyInput } from "../rules/signature.js";

const utf8 = new TextEncoder();

async function hmac(key: string | Uint8Array, prefix: string, body: Body): Promise<Uint8Array> {
  const raw = typeof key === "string" ? utf8.encode(key) : key;
  const cryptoKey = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const head = utf8.encode(prefix);
  const tail = typeof body === "string" ? utf8.encode(body) : body;
  const data = new Uint8Array(head.length + tail.length);
  data.set(head);
  data.set(tail, head.length);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, data));
}

/** The Standard Webhooks key of a secret; standardKeyBase64 has checked it is strict base64. */
const standardKey = (secret: string): Uint8Array => base64ToBytes(standardKeyBase64(secret))!;

async function finish(plan: CheckPlan): Promise<string> {
  if ("reason" in plan) return plan.reason;
  return matchReason(plan, encodeMac(await hmac(plan.key, plan.prefix, plan.body), plan.encoding));
}

/** A new secret: "whsec_" + base64 of 32 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + encodeMac(crypto.getRandomValues(new Uint8Array(32)), "base64");
}

/** GitHub style: "sha256=" + hex(HMAC-SHA256(secret as written, body)). */
export async function signGithub(body: Body, secret: string): Promise<string> {
  requireSecret(secret);
  return GITHUB_PREFIX + encodeMac(await hmac(secret, "", body), "hex");
}

/** Standard Webhooks: "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")); `secret` may be the key itself. */
export async function signStandard(webhookId: string, timestamp: number, body: Body, secret: string | Uint8Array): Promise<string> {
  requireStandardInputs(webhookId, timestamp);
  const key = typeof secret === "string" ? standardKey(secret) : secret;
  return STANDARD_PREFIX + encodeMac(await hmac(key, standardPrefix(webhookId, timestamp), body), "base64");
}

/** Empty when the GitHub-style signature matches, else why not. */
export function checkGithub(body: Body, signature: string, secret: string): Promise<string> {
  return finish(planGithub(body, signature, secret));
}

/** Empty when one of the signatures matches and the timestamp is within tolerance, else why not. */
export function checkStandard(input: StandardVerifyInput): Promise<string> {
  return finish(planStandard(input, standardKey));
}
