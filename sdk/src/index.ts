// @hookwire/sdk (Node): the client (createWebhookManager), its plain result types and errors, the
// synchronous signature functions, and the Node receiver helpers. Other entries: ./verify (any
// runtime, Web Crypto), ./verify/node, ./signature, ./payload, ./proto (the generated API).
export { createWebhookManager } from "./manager.js";
export type {
  HookwireManager,
  ListDeliveriesInput,
  RecoverDeliveriesInput,
  RegisterInput,
  SchemeName,
  SentDelivery,
  SignInput,
  UpdateInput,
  VerifyInput,
  WebhookManager,
  WebhookManagerOptions,
  WebhookPayload,
} from "./manager.js";
export { createHookwireTransport, DEFAULT_BASE_URL } from "./transport.js";
export type { Protocol, TransportOptions } from "./transport.js";
export type {
  Delivery,
  DeliveryAttempt,
  DeliveryPage,
  DeliveryStatus,
  Message,
  Registered,
  Rotated,
  Subscription,
  SubscriptionHealth,
  SubscriptionPage,
  Triggered,
  Verified,
} from "./results.js";
export {
  Code,
  DeliveryFailedError,
  HookwireError,
  InvalidArgumentError,
  NotFoundError,
  UnauthenticatedError,
  UnavailableError,
} from "./errors.js";
export {
  checkGithub,
  checkStandard,
  DEFAULT_TOLERANCE_SECONDS,
  generateSecret,
  signGithub,
  signStandard,
  SignatureInputError,
  verifyGithub,
  verifyStandard,
} from "./signature.js";
export { receiverScheme, verifyDelivery, verifyFetchRequest, verifyNodeRequest } from "./verify-node.js";
export type { HeaderSource, ReceiverOptions, ReceiverScheme, VerifiedDelivery } from "./verify-node.js";
