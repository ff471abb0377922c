// Domain documents as protobuf messages.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { SubscriptionSchema, type Subscription } from "../../sdk/gen/hookwire/v1/subscription_pb.js";
import type { SubscriptionDoc } from "../store/subscriptions.js";

export function subscriptionToProto(doc: SubscriptionDoc): Subscription {
  return create(SubscriptionSchema, {
    id: doc._id,
    url: doc.url,
    events: doc.events,
    description: doc.description,
    createdAt: timestampFromDate(doc.createdAt),
    updatedAt: timestampFromDate(doc.updatedAt),
    disabled: doc.disabled,
    disabledReason: doc.disabledReason,
  });
}
