// @hookwire/sdk: the client for Hookwire (createWebhookManager, on Node), its errors and the plain types
// its calls take and answer. Other entries: ./node and ./web (signatures and the receiver's check of a
// delivery, on node:crypto or Web Crypto, twins), ./proto (the generated API).
export { createWebhookManager } from "./manager.js";
export type {
  HookwireManager,
  ListDeliveriesInput,
  RecoverDeliveriesInput,
  RegisterInput,
  SignInput,
  UpdateInput,
  VerifyInput,
  WebhookManager,
  WebhookManagerOptions,
  WebhookPayload,
} from "./manager.js";
export { createHookwireTransport } from "./transport.js";
export type {
  Delivery,
  DeliveryAttempt,
  DeliveryPage,
  DeliveryStatus,
  Message,
  Registered,
  Rotated,
  Subscription,
  SubscriptionPage,
  Triggered,
  Verified,
} from "./types.js";
export {
  Code,
  DeliveryFailedError,
  HookwireError,
  InvalidArgumentError,
  NotFoundError,
  UnauthenticatedError,
  UnavailableError,
} from "./errors.js";
