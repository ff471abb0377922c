// Hookwire's signature checks on Web Crypto, for runtimes without node:crypto (Workers, Deno, Bun,
// browsers). The rules are signature-rules.ts's, the same the Node implementation applies.
import {
  base64ToBytes,
  encodeMac,
  matchReason,
  planGithub,
  planStandard,
  standardKeyBase64,
  type Body,
  type CheckPlan,
  type StandardVerifyInput,
} from "./signature-rules.js";

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

async function finish(plan: CheckPlan): Promise<string> {
  if ("reason" in plan) return plan.reason;
  return matchReason(plan, encodeMac(await hmac(plan.key, plan.prefix, plan.body), plan.encoding));
}

/** Empty when the GitHub-style signature matches, else why not. */
export function checkGithubWeb(body: Body, signature: string, secret: string): Promise<string> {
  return finish(planGithub(body, signature, secret));
}

/** Empty when one of the signatures matches and the timestamp is within tolerance, else why not. */
export function checkStandardWeb(input: StandardVerifyInput): Promise<string> {
  return finish(planStandard(input, (secret) => base64ToBytes(standardKeyBase64(secret))!));
}
