// Hookwire's operational events (operational-events.ts) as entries of every tenant's catalog: what each
// means, the JSON Schema of its payload and an example made by the same functions that make the real
// payloads, so the example cannot drift from what is sent. Pure.
import type { CatalogEntry } from "./event-types.js";
import type { Delivery } from "./model.js";
import { DELIVERY_EXHAUSTED, deliveryExhaustedPayload, ENDPOINT_DISABLED, endpointDisabledPayload } from "./operational-events.js";

const time = { type: "string", format: "date-time" };
const timeOrNull = { type: ["string", "null"], format: "date-time" };

/** Every key is required: the payloads always carry all of them (null where a time is unknown). */
function objectSchema(properties: Record<string, object>): string {
  return JSON.stringify({ type: "object", properties, required: Object.keys(properties), additionalProperties: false });
}

const failingSince = new Date("2026-12-01T09:14:02.118Z");
const disabledAt = new Date("2026-12-06T09:14:03.005Z");

const exampleDisabled = endpointDisabledPayload(
  "sub_0mi4z6k2q1f9b3c8d7e6a5b4c3",
  "failing",
  `every attempt failed since ${failingSince.toISOString()} (37 failed attempts); last error: HTTP 503`,
  disabledAt,
  { attemptsSucceeded: 1204, attemptsFailed: 37, lastError: "HTTP 503", failingSince, consecutiveFailures: 37, recentDeliveriesSucceeded: 0, recentDeliveriesFailed: 0 },
);

const exhaustedDelivery: Delivery = {
  _id: "dlv_0mi4z6k2r8a1b2c3d4e5f6a7b8",
  tenant: "",
  messageId: "msg_0mi4z6k2r7f1e2d3c4b5a6f7e8",
  subscriptionId: "sub_0mi4z6k2q1f9b3c8d7e6a5b4c3",
  url: "",
  event: "order.created",
  policy: { retries: 3, retryDelayMs: 1000, timeoutMs: 10_000 },
  status: "failed",
  attempts: [1, 2, 3, 4].map((n) => ({
    at: new Date(Date.UTC(2026, 11, 6, 9, 14, 3) + 1000 * (2 ** n - 2)),
    durationMs: 10_000,
    statusCode: n === 4 ? 503 : 0,
    excerpt: "",
    error: n === 4 ? "" : "timed out after 10000 ms",
  })),
  createdAt: new Date("2026-12-06T09:14:02.990Z"),
  updatedAt: new Date("2026-12-06T09:14:17.020Z"),
  nextAttemptAt: new Date("2026-12-06T09:14:17.020Z"),
};

/** In name order, as the catalog lists. */
export const BUILTIN_EVENT_TYPES: readonly CatalogEntry[] = Object.freeze(
  [
    {
      name: DELIVERY_EXHAUSTED,
      description:
        "A delivery to one of your subscriptions failed for good after its endpoint was tried: its retries are spent (or the endpoint answered 410 Gone). Fetch the message with GetMessage and redeliver it with Redeliver or RecoverDeliveries.",
      schema: objectSchema({
        delivery_id: { type: "string" },
        message_id: { type: "string" },
        subscription_id: { type: "string" },
        event: { type: "string" },
        attempts: { type: "integer", minimum: 0 },
        first_attempt_at: timeOrNull,
        last_attempt_at: timeOrNull,
        last_status_code: { type: "integer", description: "0 when no response came" },
        last_error: { type: "string" },
      }),
      example: JSON.stringify(deliveryExhaustedPayload(exhaustedDelivery)),
      builtin: true,
    },
    {
      name: ENDPOINT_DISABLED,
      description:
        "Hookwire disabled one of your subscriptions: every attempt to its endpoint failed for the configured period, or the endpoint answered 410 Gone. Re-enable it with UpdateSubscription once the endpoint works.",
      schema: objectSchema({
        subscription_id: { type: "string" },
        cause: { enum: ["failing", "gone"] },
        reason: { type: "string" },
        disabled_at: time,
        failing_since: timeOrNull,
        consecutive_failures: { type: "integer", minimum: 0 },
        last_error: { type: "string" },
      }),
      example: JSON.stringify(exampleDisabled),
      builtin: true,
    },
  ].sort((a, b) => (a.name < b.name ? -1 : 1)),
);

export function builtinEventType(name: string): CatalogEntry | undefined {
  return BUILTIN_EVENT_TYPES.find((b) => b.name === name);
}
