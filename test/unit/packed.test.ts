// Packed deliveries: log rows are the text JSON.stringify writes, made faster; batches write what their
// deliveries share once. Read back, they are the deliveries.
import { expect, it } from "vitest";
import { packDeliveries, toLogRow, unpackDeliveries, fromLogRow } from "../../server/store/ferret/packed.js";
import type { DeliveryDoc } from "../../server/store/common/delivery-doc.js";

const at = new Date("2026-12-01T10:00:00.123Z");
const doc = (i: number, extra: Partial<DeliveryDoc> = {}): DeliveryDoc =>
  ({
    _id: `dlv_${i}`,
    tenant: "acme",
    messageId: "msg_1",
    subscriptionId: `sub_${i}`,
    url: `http://127.0.0.1:9/hook/${i}?q="x"`,
    event: "order.created",
    policy: { retries: 3, retryDelayMs: 1000, timeoutMs: 10_000 },
    status: "pending",
    attempts: [],
    createdAt: at,
    updatedAt: new Date(at.getTime() + i),
    nextAttemptAt: at,
    holder: "hw_1",
    holdUntil: new Date(at.getTime() + 30_000),
    ...extra,
  }) as DeliveryDoc;

const revived = (docs: unknown) => JSON.parse(JSON.stringify(docs), (k, v) => (["createdAt", "updatedAt", "nextAttemptAt", "holdUntil", "at"].includes(k) && v !== null ? new Date(v) : v));

it("writes dates as JSON.stringify does, in attempts and invalid ones included", () => {
  const docs = [
    doc(1),
    doc(2, { redeliveryOf: "dlv_0", status: "failed", attempts: [{ at, durationMs: 12, statusCode: 500, excerpt: "é\"\n", error: "" }, { at: new Date(Number.NaN), durationMs: 0, statusCode: 0, excerpt: "", error: "timed out" }] as never }),
    ...Array.from({ length: 100 }, (_, i) => doc(i + 3, { updatedAt: new Date(at.getTime() + i * 1000) })),
  ];
  expect(unpackDeliveries(packDeliveries(docs))).toEqual(revived(docs));
  expect(packDeliveries([docs[1]!])).toBe(JSON.stringify([docs[1]]));
  const { takeToken: _t, holder: _h, holdUntil: _u, _id, tenant, messageId, subscriptionId, status, ...rest } = docs[1]! as DeliveryDoc & { takeToken?: string };
  expect(toLogRow(docs[1]!).d).toBe(JSON.stringify(rest));
});

it("reads packed deliveries and log rows back as they were", () => {
  const attempts = [{ at, durationMs: 12, statusCode: 200, excerpt: "ok", error: "", retryAfter: undefined }];
  const docs = [doc(1), doc(2, { status: "delivered", attempts: attempts as never })];
  expect(unpackDeliveries(packDeliveries(docs))).toEqual(JSON.parse(JSON.stringify(docs), (k, v) => (["createdAt", "updatedAt", "nextAttemptAt", "holdUntil", "at"].includes(k) ? new Date(v) : v)));
  const back = fromLogRow(toLogRow(docs[1]!));
  expect(back.attempts[0]!.at).toEqual(at);
  expect(back.updatedAt).toEqual(docs[1]!.updatedAt);
  expect(back.url).toBe(docs[1]!.url);
});

it("writes what a Trigger's deliveries share once, and reads each back whole and separate", () => {
  const policy = { retries: 3, retryDelayMs: 1000, timeoutMs: 10_000 };
  const docs = Array.from({ length: 500 }, (_, i) => doc(i, { updatedAt: at, policy: { ...policy }, ...(i === 7 ? { redeliveryOf: "dlv_x", policy: { ...policy, retries: 9 } } : {}) }));
  const text = packDeliveries(docs);
  expect(text.length).toBeLessThan(JSON.stringify(docs).length / 2);
  const back = unpackDeliveries(text);
  const revived = JSON.parse(JSON.stringify(docs), (k, v) => (["createdAt", "updatedAt", "nextAttemptAt", "holdUntil", "at"].includes(k) ? new Date(v) : v));
  expect(back).toEqual(revived);
  // No two deliveries share an object: changing one leaves the others as they were.
  back[0]!.attempts.push({ at, durationMs: 1, statusCode: 200, excerpt: "", error: "" } as never);
  back[0]!.policy.retries = 0;
  expect(back[1]!.attempts).toEqual([]);
  expect(back[1]!.policy.retries).toBe(3);
  expect(back[7]!.policy.retries).toBe(9);
  expect(back[7]!.redeliveryOf).toBe("dlv_x");
  expect(unpackDeliveries(packDeliveries([docs[0]!]))).toEqual([revived[0]]);
});
