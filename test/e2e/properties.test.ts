// Property-based: random values in every request field of every RPC, over binary gRPC and Connect JSON.
// Whatever the input, the answer is a proper status (never INTERNAL or UNKNOWN, never a dropped
// connection), every refusal names a field of the request, and the server keeps serving.
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { fromJson, type DescMessage } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  WebhookService,
  CreatePortalSessionRequestSchema,
  DeliveryStatus,
  DeleteSubscriptionRequestSchema,
  GetMessageRequestSchema,
  GetSubscriptionRequestSchema,
  ListDeliveriesRequestSchema,
  ListSubscriptionsRequestSchema,
  RedeliverRequestSchema,
  RegisterRequestSchema,
  RevokePortalSessionsRequestSchema,
  RotateSecretRequestSchema,
  SendRequestSchema,
  SendTestEventRequestSchema,
  SignRequestSchema,
  TriggerRequestSchema,
  UpdateSubscriptionRequestSchema,
  VerifyRequestSchema,
  WatchDeliveriesRequestSchema,
} from "@hookwire/sdk/proto";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, connectClient, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

let server: RunningServer;
let rcv: Receiver;
const acme = { headers: bearer(KEYS.acme) };
const known = { sub: [] as string[], msg: [] as string[], dlv: [] as string[] };

beforeAll(async () => {
  rcv = await startReceiver();
  // Private URLs allowed so that accepted subscriptions and Sends point at the local receiver only.
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_RETRY_DELAY_MS: "10" } });
  const c = grpcClient(server);
  const r = await c.register({ url: rcv.url("/known"), events: ["known.*"] }, acme);
  known.sub.push(r.subscription!.id);
  const t = await c.trigger({ event: "known.one" }, acme);
  known.msg.push(t.messageId);
  await rcv.waitFor(() => rcv.requests("/known").length >= 1);
  // Its outcome recorded: the known delivery is a finished one.
  const finished = await waitFor(
    async () => {
      const { deliveries } = await c.listDeliveries({ messageId: t.messageId }, acme);
      return deliveries.length > 0 && deliveries.every((d) => d.status !== DeliveryStatus.PENDING) && deliveries;
    },
    { what: "the known delivery recorded" },
  );
  known.dlv.push(...finished.map((d) => d.id));
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await rcv?.close();
});

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const text = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme", maxLength: 300 }));
const id = (prefix: keyof typeof known) =>
  fc.oneof(text, fc.constantFrom("", `${prefix}_00000000000000000000000000000`, "sub_abc", "msg_ABC", "x".repeat(100)), fc.nat().map((i) => known[prefix][i % known[prefix].length] ?? ""));
const url = fc.oneof(
  text,
  fc.webPath().map((p) => rcv.url(p || "/")),
  fc.constantFrom("ftp://x.example", "http://", "http://[::1", "http://user:pw@127.0.0.1/", `http://127.0.0.1/${"a".repeat(3000)}`),
);
const event = fc.oneof(text, fc.constantFrom("a.b", "order.created", "*", "order.*", "known.one", "", "a..b"));
const events = fc.array(event, { maxLength: 70 });
const secret = fc.oneof(text, fc.constantFrom("", "whsec_", "whsec_not*base64", "whsec_" + Buffer.alloc(32, 7).toString("base64"), "whsec_" + Buffer.alloc(8).toString("base64")));
const payload = opt(fc.jsonValue({ maxDepth: 6 }).map((v) => fromJson(ValueSchema, v as never)));
const bytes = fc.uint8Array({ maxLength: 512 });
const enumValue = fc.integer({ min: -3, max: 8 });
const timestamp = fc.oneof(text, fc.constantFrom("", "2026-11-29T10:00:00Z", "2026-11-29T10:00:00.123+01:00", "yesterday", "2020"));

type Call = (c: Client<typeof WebhookService>, signal: AbortSignal) => Promise<unknown>;
interface Case {
  schema: DescMessage;
  arb: fc.Arbitrary<Call>;
}

const cases: Record<string, Case> = {
  Register: {
    schema: RegisterRequestSchema,
    arb: fc
      .record({ url, events, secret, description: text, retries: opt(int32), retryDelayMs: opt(int32), timeoutMs: opt(int32) })
      .map((r) => (c, signal) => c.register(r, { ...acme, signal })),
  },
  GetSubscription: { schema: GetSubscriptionRequestSchema, arb: id("sub").map((i) => (c, signal) => c.getSubscription({ id: i }, { ...acme, signal })) },
  ListSubscriptions: {
    schema: ListSubscriptionsRequestSchema,
    arb: fc.record({ pageSize: int32, pageToken: text }).map((r) => (c, signal) => c.listSubscriptions(r, { ...acme, signal })),
  },
  UpdateSubscription: {
    schema: UpdateSubscriptionRequestSchema,
    arb: fc
      .record({ id: id("sub"), url: opt(url), events, description: opt(text), disabled: opt(fc.boolean()), retries: opt(int32), retryDelayMs: opt(int32), timeoutMs: opt(int32) })
      // The known subscription stays enabled, so Trigger keeps having somewhere to deliver.
      .map((r) => (c, signal) => c.updateSubscription({ ...r, disabled: r.id === known.sub[0] ? undefined : r.disabled }, { ...acme, signal })),
  },
  DeleteSubscription: {
    schema: DeleteSubscriptionRequestSchema,
    arb: id("sub").map((i) => (c, signal) => (i === known.sub[0] ? Promise.resolve() : c.deleteSubscription({ id: i }, { ...acme, signal }))),
  },
  RotateSecret: {
    schema: RotateSecretRequestSchema,
    arb: fc.record({ id: id("sub"), secret, previousSecretTtlSeconds: int64 }).map((r) => (c, signal) => c.rotateSecret(r, { ...acme, signal })),
  },
  Sign: {
    schema: SignRequestSchema,
    arb: fc.record({ body: bytes, secret, scheme: enumValue, webhookId: text, timestamp: int64 }).map((r) => (c, signal) => c.sign(r, { ...acme, signal })),
  },
  Verify: {
    schema: VerifyRequestSchema,
    arb: fc
      .record({ body: bytes, signature: text, secret, scheme: enumValue, webhookId: text, timestamp: int64, toleranceSeconds: int64 })
      .map((r) => (c, signal) => c.verify(r, { ...acme, signal })),
  },
  Trigger: {
    schema: TriggerRequestSchema,
    arb: fc.record({ event, payload, idempotencyKey: text }).map((r) => (c, signal) => c.trigger(r, { ...acme, signal })),
  },
  Send: {
    schema: SendRequestSchema,
    arb: fc
      .record({
        url,
        payload: opt(fc.record({ event, payload, timestamp })),
        secret,
        retries: opt(int32),
        retryDelayMs: opt(int32),
        timeoutMs: opt(int32),
        idempotencyKey: text,
      })
      .map((r) => (c, signal) => c.send(r, { ...acme, signal })),
  },
  GetMessage: { schema: GetMessageRequestSchema, arb: id("msg").map((i) => (c, signal) => c.getMessage({ id: i }, { ...acme, signal })) },
  ListDeliveries: {
    schema: ListDeliveriesRequestSchema,
    arb: fc
      .record({ messageId: fc.oneof(fc.constant(""), id("msg")), subscriptionId: fc.oneof(fc.constant(""), id("sub")), status: enumValue, pageSize: int32, pageToken: text })
      .map((r) => (c, signal) => c.listDeliveries(r, { ...acme, signal })),
  },
  Redeliver: { schema: RedeliverRequestSchema, arb: id("dlv").map((i) => (c, signal) => c.redeliver({ deliveryId: i }, { ...acme, signal })) },
  SendTestEvent: {
    schema: SendTestEventRequestSchema,
    arb: fc
      .record({ subscriptionId: id("sub"), event, payload: opt(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 5 }))) })
      .map((r) => (c, signal) => c.sendTestEvent(r as never, { ...acme, signal })),
  },
  CreatePortalSession: {
    schema: CreatePortalSessionRequestSchema,
    arb: fc
      .record({
        owner: fc.oneof(text, fc.constant("customer-1")),
        ttlSeconds: fc.oneof(int64, fc.bigInt({ min: -2n, max: 90_000n })),
        theme: opt(
          fc.record({
            accentColor: fc.oneof(text, fc.constantFrom("#00ff00", "#0f0", "")),
            logoUrl: fc.oneof(text, fc.constantFrom("", "https://127.0.0.1/l.png", "data:image/png;base64,AAAA", "data:image/svg+xml;base64,", "https://u:p@127.0.0.1/")),
            colorScheme: enumValue,
            title: text,
          }),
        ),
      })
      .map((r) => (c, signal) => c.createPortalSession(r, { ...acme, signal })),
  },
  RevokePortalSessions: {
    schema: RevokePortalSessionsRequestSchema,
    arb: fc.oneof(text, fc.constant("customer-1")).map((owner) => (c, signal) => c.revokePortalSessions({ owner }, { ...acme, signal })),
  },
  WatchDeliveries: {
    schema: WatchDeliveriesRequestSchema,
    arb: fc.oneof(fc.constant(""), id("sub")).map((i) => async (c, signal) => {
      for await (const _ of c.watchDeliveries({ subscriptionId: i }, { ...acme, signal })) {
        // outcomes of other runs may stream by; the call ends when the signal aborts
      }
    }),
  },
};

/** The request's field names as an error message spells them (snake_case), first segment only. */
function fieldNames(schema: DescMessage): Set<string> {
  return new Set(schema.fields.map((f) => f.name));
}

const REFUSALS = new Set([Code.InvalidArgument, Code.NotFound, Code.FailedPrecondition, Code.ResourceExhausted, Code.AlreadyExists]);

async function outcome(call: Call, client: Client<typeof WebhookService>, rpc: string): Promise<string | undefined> {
  // Streams and Sends run until their own end or this deadline: both are fine answers.
  const signal = AbortSignal.timeout(rpc === "WatchDeliveries" ? 300 : 5000);
  try {
    await call(client, signal);
    return undefined;
  } catch (err) {
    const ce = ConnectError.from(err);
    if (signal.aborted && (ce.code === Code.Canceled || ce.code === Code.DeadlineExceeded)) return undefined;
    if (!REFUSALS.has(ce.code)) return `${rpc}: ${Code[ce.code]} ${ce.rawMessage}`;
    const field = /^([a-z_]+)(?:\[\d+\])?(?:\.[a-z_]+)?: /.exec(ce.rawMessage)?.[1];
    if (!field || !fieldNames(cases[rpc]!.schema).has(field)) return `${rpc}: ${Code[ce.code]} names no field of the request: ${ce.rawMessage}`;
    return undefined;
  }
}

describe.each([
  ["binary gRPC", () => grpcClient(server)],
  ["Connect JSON", () => connectClient(server)],
])("over %s", (_name, makeClient) => {
  it.each(Object.keys(cases))("%s: every answer is a proper status naming a field", async (rpc) => {
    const client = makeClient();
    await fc.assert(
      fc.asyncProperty(cases[rpc]!.arb, async (call) => {
        const bad = await outcome(call, client, rpc);
        expect(bad).toBeUndefined();
      }),
      { numRuns: rpc === "WatchDeliveries" ? 15 : 60 },
    );
    expect(server.child.exitCode).toBeNull();
  });
});

it("the server still serves after all of it", async () => {
  expect(server.child.exitCode).toBeNull();
  const res = await grpcClient(server).sign({ body: new TextEncoder().encode("x"), secret: "s" }, acme);
  expect(res.signature).toMatch(/^sha256=/);
});
