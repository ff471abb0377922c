// @hookwire/sdk/web: Hookwire's signatures and the receiver's check of a delivery, on Web Crypto, for any
// runtime with it (Cloudflare Workers, Deno, Bun, browsers, Node). No node: import anywhere in its module
// graph, which a test checks. The twin of @hookwire/sdk/node (rules/entry.ts makes both).
import { signatureEntry, type SignatureEntry } from "../rules/entry.js";
import * as signatures from "./signature.js";

export { DEFAULT_TOLERANCE_SECONDS, receiverScheme, SignatureInputError } from "../rules/entry.js";
export type { Body, DeliveryRequest, HeaderSource, ReceiverOptions, ReceiverScheme, StandardVerifyInput, VerifiedDelivery } from "../rules/entry.js";

// One const a name, typed by SignatureEntry's member, so that its documentation reaches the published .d.ts.
const entry = signatureEntry(signatures);
export const generateSecret: SignatureEntry["generateSecret"] = entry.generateSecret;
export const signGithub: SignatureEntry["signGithub"] = entry.signGithub;
export const signStandard: SignatureEntry["signStandard"] = entry.signStandard;
export const verifyGithub: SignatureEntry["verifyGithub"] = entry.verifyGithub;
export const verifyStandard: SignatureEntry["verifyStandard"] = entry.verifyStandard;
export const checkGithub: SignatureEntry["checkGithub"] = entry.checkGithub;
export const checkStandard: SignatureEntry["checkStandard"] = entry.checkStandard;
export const verifyDelivery: SignatureEntry["verifyDelivery"] = entry.verifyDelivery;
export const verifyRequest: SignatureEntry["verifyRequest"] = entry.verifyRequest;
