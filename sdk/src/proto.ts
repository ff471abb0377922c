// @hookwire/sdk/proto: the generated API (protobuf-es v2 schemas and the WebhookService descriptor),
// for `manager.client` requests and for serving or proxying the API.
export * from "./gen/hookwire/v1/delivery_pb.js";
export * from "./gen/hookwire/v1/event_type_pb.js";
export * from "./gen/hookwire/v1/portal_pb.js";
export * from "./gen/hookwire/v1/signature_pb.js";
export * from "./gen/hookwire/v1/subscription_pb.js";
export * from "./gen/hookwire/v1/webhook_service_pb.js";
