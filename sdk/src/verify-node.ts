// @hookwire/sdk/verify/node: verifying deliveries on Node, synchronously (node:crypto), from a plain
// header object, a Fetch Request or an IncomingMessage. verify.ts is the same for any runtime.
import type { IncomingMessage } from "node:http";
import { inputReason, planDelivery, settle, type HeaderSource, type ReceiverOptions, type VerifiedDelivery } from "./receiver-rules.js";
import type { Body } from "./signature-rules.js";
import { checkGithub, checkStandard } from "./signature.js";

export { receiverScheme, type HeaderSource, type ReceiverOptions, type ReceiverScheme, type VerifiedDelivery } from "./receiver-rules.js";

/** Checks a delivery's signature with one scheme (see ReceiverOptions.scheme); header names in any case. */
export function verifyDelivery(headers: HeaderSource, rawBody: Body, options: ReceiverOptions): VerifiedDelivery {
  const check = planDelivery(headers, rawBody, options);
  if ("refused" in check) return check.refused;
  let reason: string;
  try {
    reason = check.scheme === "github" ? checkGithub(rawBody, check.signature, options.secret) : checkStandard(check.input);
  } catch (err) {
    reason = inputReason(err);
  }
  return settle(check, reason);
}

/** Reads the raw body of a Node request (it must not have been parsed yet) and verifies it. */
export async function verifyNodeRequest(req: IncomingMessage, options: ReceiverOptions): Promise<VerifiedDelivery> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return verifyDelivery(req.headers, Buffer.concat(chunks), options);
}

/** Verifies a Fetch API Request (Next.js route handlers, Hono, undici). */
export async function verifyFetchRequest(req: Request, options: ReceiverOptions): Promise<VerifiedDelivery> {
  return verifyDelivery(req.headers, new Uint8Array(await req.arrayBuffer()), options);
}
