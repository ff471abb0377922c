// @hookwire/sdk/web: Hookwire's signatures and the receiver's check of a delivery, on Web Crypto, for any
// runtime with it (Cloudflare Workers, Deno, Bun, browsers, Node). No node: import anywhere in its module
// graph, which a test checks. The twin of @hookwire/sdk/node (rules/entry.ts makes both).
import { signatureEntry } from "../rules/entry.js";
import * as signatures from "./signature.js";

export { DEFAULT_TOLERANCE_SECONDS, receiverScheme, SignatureInputError } from "../rules/entry.js";
export type { Body, DeliveryRequest, HeaderSource, ReceiverOptions, ReceiverScheme, StandardVerifyInput, VerifiedDelivery } from "../rules/entry.js";

export const { generateSecret, signGithub, signStandard, verifyGithub, verifyStandard, checkGithub, checkStandard, verifyDelivery, verifyRequest } = signatureEntry(signatures);
