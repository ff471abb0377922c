// What @hookwire/sdk/node and @hookwire/sdk/web export, made here from one runtime's signatures so that
// the twins cannot drift: the same names, the same arguments, the same answers. Every function that
// computes a MAC answers a Promise, since Web Crypto does; on Node the work itself is synchronous.
import { requestBody, verifyDeliveryWith, type DeliveryRequest, type HeaderSource, type ReceiverOptions, type SignatureChecks, type VerifiedDelivery } from "./receiver.js";
import type { Body, StandardVerifyInput } from "./signature.js";

export { receiverScheme, type DeliveryRequest, type HeaderSource, type ReceiverOptions, type ReceiverScheme, type VerifiedDelivery } from "./receiver.js";
export { DEFAULT_TOLERANCE_SECONDS, SignatureInputError, type Body, type StandardVerifyInput } from "./signature.js";

/** One runtime's implementation of the two schemes, synchronous (node:crypto) or not (Web Crypto). */
export interface Signatures extends SignatureChecks {
  generateSecret(): string;
  signGithub(body: Body, secret: string): string | Promise<string>;
  signStandard(webhookId: string, timestamp: number, body: Body, secret: string | Uint8Array): string | Promise<string>;
}

/** The functions both entries export. A malformed input (an empty secret, a "whsec_" secret that is not base64) rejects with SignatureInputError. */
export interface SignatureEntry {
  /** A new secret: "whsec_" + base64 of 32 random bytes (it keys both schemes). */
  generateSecret(): string;
  /** GitHub style (x-hub-signature-256): "sha256=" + hex(HMAC-SHA256(secret as written, body)). */
  signGithub(body: Body, secret: string): Promise<string>;
  /**
   * Standard Webhooks (webhook-signature): "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
   * the key being the base64-decoded part of a "whsec_" secret; `secret` may be that key itself.
   */
  signStandard(webhookId: string, timestamp: number, body: Body, secret: string | Uint8Array): Promise<string>;
  /** Whether the GitHub-style signature matches (constant-time; hex digits in either case). */
  verifyGithub(body: Body, signature: string, secret: string): Promise<boolean>;
  /** Whether one of the space-separated "v1," signatures matches and the timestamp is within tolerance. */
  verifyStandard(input: StandardVerifyInput): Promise<boolean>;
  /** verifyGithub's answer with its reason: empty when the signature matches, else why not. */
  checkGithub(body: Body, signature: string, secret: string): Promise<string>;
  /** verifyStandard's answer with its reason: empty when it matches, else why not ("timestamp is too old", …). */
  checkStandard(input: StandardVerifyInput): Promise<string>;
  /**
   * Checks a received delivery from its headers (a Fetch `Headers` or a plain object, names in any
   * case) and raw body, with one scheme (see ReceiverOptions.scheme); a refusal answers, never throws.
   */
  verifyDelivery(headers: HeaderSource, rawBody: Body | ArrayBuffer, options: ReceiverOptions): Promise<VerifiedDelivery>;
  /** verifyDelivery on a request whose body has not been read yet (a Fetch `Request` or a Node `IncomingMessage`): it reads the raw body. */
  verifyRequest(req: DeliveryRequest, options: ReceiverOptions): Promise<VerifiedDelivery>;
}

/** The entry's functions on one runtime's signatures. */
export function signatureEntry(signatures: Signatures): SignatureEntry {
  const { checkGithub, checkStandard } = signatures;
  const verifyDelivery = (headers: HeaderSource, rawBody: Body | ArrayBuffer, options: ReceiverOptions) => verifyDeliveryWith(signatures, headers, rawBody, options);
  // Each wrapper is async so that a synchronous implementation's throw becomes a rejection, as on Web Crypto.
  return {
    generateSecret: () => signatures.generateSecret(),
    signGithub: async (body, secret) => signatures.signGithub(body, secret),
    signStandard: async (webhookId, timestamp, body, secret) => signatures.signStandard(webhookId, timestamp, body, secret),
    verifyGithub: async (body, signature, secret) => (await checkGithub(body, signature, secret)) === "",
    verifyStandard: async (input) => (await checkStandard(input)) === "",
    checkGithub: async (body, signature, secret) => checkGithub(body, signature, secret),
    checkStandard: async (input) => checkStandard(input),
    verifyDelivery,
    verifyRequest: async (req, options) => verifyDelivery(req.headers, await requestBody(req), options),
  };
}
