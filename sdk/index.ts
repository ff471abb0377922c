// The Hookwire SDK: createWebhookManager, the signature module, receiver helpers, typed errors and the generated API.
export { createWebhookManager } from "./manager.js";
export type { HookwireManager, WebhookManager, WebhookManagerOptions, WebhookPayload } from "./manager.js";
export { Code, HookwireError } from "./errors.js";
export { PayloadError, valueFromJson, valueFromJsonText, valueToJsonText } from "./payload.js";
export type { PayloadLimits } from "./payload.js";
export { verifyDelivery, verifyFetchRequest, verifyNodeRequest } from "./receiver.js";
export type { ReceiverOptions, ReceiverScheme, VerifiedDelivery } from "./receiver.js";
export {
  checkGithub,
  checkStandard,
  DEFAULT_TOLERANCE_SECONDS,
  generateSecret,
  signGithub,
  signStandard,
  verifyGithub,
  verifyStandard,
} from "./signature.js";
export * from "./gen/hookwire/v1/delivery_pb.js";
export * from "./gen/hookwire/v1/signature_pb.js";
export * from "./gen/hookwire/v1/subscription_pb.js";
export * from "./gen/hookwire/v1/webhook_service_pb.js";
