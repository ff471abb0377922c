// @hookwire/sdk/verify: verifying Hookwire's deliveries on any runtime with Web Crypto and the Fetch
// API (Cloudflare Workers, Deno, Bun, browsers, Node). No node: import anywhere in its module graph,
// which a test checks. Asynchronous, since Web Crypto is; verify-node.ts is the synchronous twin.
import { inputReason, planDelivery, settle, type HeaderSource, type ReceiverOptions, type VerifiedDelivery } from "./receiver-rules.js";
import type { Body } from "./signature-rules.js";
import { checkGithubWeb, checkStandardWeb } from "./web-signature.js";

export { receiverScheme, type HeaderSource, type ReceiverOptions, type ReceiverScheme, type VerifiedDelivery } from "./receiver-rules.js";
export { DEFAULT_TOLERANCE_SECONDS } from "./signature-rules.js";

/** Checks a delivery's signature with one scheme (see ReceiverOptions.scheme); header names in any case. */
export async function verifyDelivery(headers: HeaderSource, rawBody: Body | ArrayBuffer, options: ReceiverOptions): Promise<VerifiedDelivery> {
  const body = rawBody instanceof ArrayBuffer ? new Uint8Array(rawBody) : rawBody;
  const check = planDelivery(headers, body, options);
  if ("refused" in check) return check.refused;
  let reason: string;
  try {
    reason = check.scheme === "github" ? await checkGithubWeb(body, check.signature, options.secret) : await checkStandardWeb(check.input);
  } catch (err) {
    reason = inputReason(err);
  }
  return settle(check, reason);
}

/** Reads a Fetch API Request's body (it must not have been read yet) and verifies it. */
export async function verifyRequest(req: Request, options: ReceiverOptions): Promise<VerifiedDelivery> {
  return verifyDelivery(req.headers, await req.arrayBuffer(), options);
}
