// @hookwire/sdk/node: Hookwire's signatures and the receiver's check of a delivery, on node:crypto. The
// twin of @hookwire/sdk/web (rules/entry.ts makes both): the same names and answers, every MAC behind a
// Promise; this one is the faster on Node.
import { signatureEntry } from "../rules/entry.js";
import * as signatures from "./signature.js";

export { DEFAULT_TOLERANCE_SECONDS, receiverScheme, SignatureInputError } from "../rules/entry.js";
export type { Body, DeliveryRequest, HeaderSource, ReceiverOptions, ReceiverScheme, StandardVerifyInput, VerifiedDelivery } from "../rules/entry.js";

export const { generateSecret, signGithub, signStandard, verifyGithub, verifyStandard, checkGithub, checkStandard, verifyDelivery, verifyRequest } = signatureEntry(signatures);
