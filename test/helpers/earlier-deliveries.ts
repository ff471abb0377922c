// Deliveries as earlier versions of the FerretDB layout stored them, written with the driver by the tests
// of the migrations that move them (test/store/store-upgrade.test.ts, store-hold-fields.test.ts).
import { newId } from "../../server/domain/ids.js";
import type { Delivery } from "../../server/ports.js";

/** A pending delivery of tenant acme due now, with the fields of the earlier version given in `earlier`. */
export function earlierDelivery(messageId: string, subscriptionId: string, earlier: Record<string, unknown>, state: Partial<Delivery> = {}) {
  const at = new Date();
  return {
    _id: newId("dlv"),
    tenant: "acme",
    messageId,
    subscriptionId,
    url: "http://127.0.0.1:9/hook",
    event: "order.created",
    policy: { retries: 3, retryDelayMs: 1000, timeoutMs: 10_000 },
    status: "pending" as Delivery["status"],
    attempts: [] as Delivery["attempts"],
    createdAt: at,
    updatedAt: at,
    nextAttemptAt: at,
    ...earlier,
    ...state,
  };
}

/** A delivered one's attempts. */
export const deliveredAttempts = (at = new Date()): Delivery["attempts"] => [{ at, durationMs: 4, statusCode: 200, excerpt: "", error: "" }];
