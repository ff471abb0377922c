// What a customer portal session may do (issue 24 item 1), walked RPC by RPC with a real owner token against a
// real server: the allowed RPCs act on the session owner's subscriptions, messages and deliveries only (another
// owner's ids, the tenant's own and another tenant's answer NOT_FOUND exactly as another tenant's key is
// answered; an owner named in a request is forced to the session's), the refused ones answer
// PERMISSION_DENIED and change nothing, and SendTestEvent reaches a real receiver on 127.0.0.1 with a
// signature that verifies, from a @grpc/grpc-js client as from Connect.
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type CallOptions, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { valueFromJson } from "@hookwire/sdk/internal";
import { DeliveryStatus, WebhookService, type Delivery } from "@hookwire/sdk/proto";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, connectClient, failure, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const acme = { headers: bearer(KEYS.acme) };
const globex = { headers: bearer(KEYS.globex) };
const OWNER = "customer-a";

/** Every RPC a portal session may call, and every one it may not: together, the whole service. */
const ALLOWED = [
  "Register", "GetSubscription", "ListSubscriptions", "UpdateSubscription", "DeleteSubscription", "RotateSecret",
  "GetMessage", "ListDeliveries", "Redeliver", "RecoverDeliveries", "WatchDeliveries",
  "GetEventType", "ListEventTypes", "SendTestEvent", "GetPortalSession",
];
const REFUSED = ["Sign", "Verify", "Trigger", "Send", "CreateEventType", "UpdateEventType", "DeleteEventType", "CreatePortalSession", "RevokePortalSessions"];

let server: RunningServer;
let rcv: Receiver;
let client: Client<typeof WebhookService>;
/** The clients a portal's calls are made over: gRPC (HTTP/2) and Connect (HTTP/1.1). */
let clients: Array<[string, Client<typeof WebhookService>]>;
let portal: CallOptions;
let token: string;
const subs: Record<"a1" | "a2" | "b" | "t" | "g", string> = { a1: "", a2: "", b: "", t: "", g: "" };
const msgs: Record<"a" | "b" | "t" | "all", string> = { a: "", b: "", t: "", all: "" };
const secrets = new Map<string, string>();
const since = new Date(Date.now() - 1000);

/** Waits until every delivery of the message is finished, and answers them (read with the tenant's key). */
async function finished(messageId: string): Promise<Delivery[]> {
  let last: Delivery[] = [];
  await waitFor(
    async () => {
      last = (await client.listDeliveries({ messageId }, acme)).deliveries;
      return last.length > 0 && last.every((d) => d.status !== DeliveryStatus.PENDING);
    },
    { what: () => `deliveries of ${messageId} finished (${last.map((d) => d.status).join(",")})` },
  );
  return last;
}

beforeAll(async () => {
  rcv = await startReceiver();
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_POLL_MS: "100" } });
  client = grpcClient(server);
  clients = [["gRPC", client], ["Connect", connectClient(server)]];
  const register = async (key: typeof acme, path: string, owner: string, status = 200) => {
    const { subscription, secret } = await client.register({ url: rcv.url(path), events: ["order.*"], owner, retries: 0 }, key);
    rcv.route(path, { secret, respond: () => ({ status }) });
    secrets.set(path, secret);
    return subscription!.id;
  };
  subs.a1 = await register(acme, "/a1", OWNER);
  subs.a2 = await register(acme, "/a2", OWNER, 500);
  subs.b = await register(acme, "/b", "customer-b");
  subs.t = await register(acme, "/t", "");
  subs.g = await register(globex, "/g", OWNER);
  const schema = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };
  await client.createEventType({ name: "order.created", description: "An order was placed", schema, example: valueFromJson({ id: "ord_example" }) }, acme);
  await client.createEventType({ name: "order.noexample", description: "No example" }, acme);
  const trigger = async (owner: string, allOwners = false) =>
    (await client.trigger({ event: "order.created", payload: valueFromJson({ id: owner || "tenant" }), owner, allOwners }, acme)).messageId;
  [msgs.a, msgs.b, msgs.t, msgs.all] = [await trigger(OWNER), await trigger("customer-b"), await trigger(""), await trigger("", true)];
  for (const m of Object.values(msgs)) await finished(m);
  ({ token } = await client.createPortalSession({ owner: OWNER }, acme));
  portal = { headers: bearer(token) };
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await rcv?.close();
});

/**
 * The portal's call fails as the same call with another tenant's key does (for an id of the tenant), or as
 * the tenant's own key does (for an id of another tenant): NOT_FOUND, the same message.
 */
async function notFoundAsElsewhere(call: (c: Client<typeof WebhookService>, opts: CallOptions) => Promise<unknown>, elsewhere = globex): Promise<void> {
  for (const [, c] of clients) {
    const mine = await failure(call(c, portal));
    const theirs = await failure(call(c, elsewhere));
    expect(Code[mine.code]).toBe(Code[Code.NotFound]);
    expect([mine.code, mine.rawMessage]).toEqual([theirs.code, theirs.rawMessage]);
  }
}

async function denied(p: Promise<unknown>, message: RegExp): Promise<void> {
  const err = await failure(p);
  expect([Code[err.code], err.rawMessage]).toEqual([Code[Code.PermissionDenied], expect.stringMatching(message)]);
}

const deliveryOf = async (messageId: string, subscriptionId: string) => (await finished(messageId)).find((d) => d.subscriptionId === subscriptionId)!;

describe("the RPCs a portal session may call", () => {
  it("are the service's RPCs, each either allowed or refused", () => {
    expect(WebhookService.methods.map((m) => m.name).sort()).toEqual([...ALLOWED, ...REFUSED].sort());
  });

  it("subscriptions: lists and reads its owner's only; another owner's, the tenant's own and another tenant's ids are NOT_FOUND", async () => {
    for (const [, c] of clients) {
      for (const owner of ["", OWNER]) {
        const listed = await c.listSubscriptions({ owner }, portal);
        expect(listed.subscriptions.map((s) => s.id).sort()).toEqual([subs.a1, subs.a2].sort());
      }
      await denied(c.listSubscriptions({ owner: "customer-b" }, portal), /^owner: a portal session acts for its own owner only/);
      const got = await c.getSubscription({ id: subs.a1 }, portal);
      expect(got.subscription).toMatchObject({ id: subs.a1, owner: OWNER, url: rcv.url("/a1") });
    }
    for (const id of [subs.b, subs.t]) {
      await notFoundAsElsewhere((c, o) => c.getSubscription({ id }, o));
      await notFoundAsElsewhere((c, o) => c.updateSubscription({ id, description: "taken over" }, o));
      await notFoundAsElsewhere((c, o) => c.rotateSecret({ id }, o));
      await notFoundAsElsewhere((c, o) => c.deleteSubscription({ id }, o));
    }
    // Another tenant's subscription of an owner of the same name: as the tenant's own key is answered.
    await notFoundAsElsewhere((c, o) => c.getSubscription({ id: subs.g }, o), acme);
    // Nothing of theirs changed.
    for (const id of [subs.b, subs.t]) expect((await client.getSubscription({ id }, acme)).subscription?.description).toBe("");
    expect((await client.getSubscription({ id: subs.g }, globex)).subscription?.owner).toBe(OWNER);
  });

  it("Register creates the session owner's endpoint whatever owner it names, refusing another; it can then be updated, rotated and deleted", async () => {
    const plain = await client.register({ url: rcv.url("/a3"), events: ["order.*"] }, portal);
    expect(plain.subscription?.owner).toBe(OWNER);
    expect(plain.secret).toMatch(/^whsec_/);
    const named = await connectClient(server).register({ url: rcv.url("/a4"), events: ["invoice.*"], owner: OWNER }, portal);
    expect(named.subscription?.owner).toBe(OWNER);
    for (const owner of ["customer-b", " customer-a"]) {
      await denied(client.register({ url: rcv.url("/b2"), events: ["order.*"], owner }, portal), /^owner: a portal session acts for its own owner only/);
    }
    expect((await client.listSubscriptions({ owner: "customer-b" }, acme)).subscriptions.map((s) => s.id)).toEqual([subs.b]);
    for (const [, c] of clients) {
      const id = plain.subscription!.id;
      expect((await c.updateSubscription({ id, description: "mine", disabled: true }, portal)).subscription).toMatchObject({ description: "mine", disabled: true });
      expect((await c.updateSubscription({ id, disabled: false }, portal)).subscription?.disabled).toBe(false);
      const rotated = await c.rotateSecret({ id }, portal);
      expect(rotated.secret).toMatch(/^whsec_/);
      expect(rotated.secret).not.toBe(plain.secret);
    }
    for (const s of [plain, named]) await client.deleteSubscription({ id: s.subscription!.id }, portal);
    const err = await failure(client.getSubscription({ id: plain.subscription!.id }, acme));
    expect(err.code).toBe(Code.NotFound);
  });

  it("messages and deliveries: its owner's, an announcement to every owner as it reached its endpoints, nothing else", async () => {
    for (const [, c] of clients) {
      expect((await c.getMessage({ id: msgs.a }, portal)).message).toMatchObject({ id: msgs.a, owner: OWNER });
      // An announcement to every owner went to this owner's endpoints too.
      expect((await c.getMessage({ id: msgs.all }, portal)).message).toMatchObject({ id: msgs.all, allOwners: true });
      const mine = await c.listDeliveries({ pageSize: 100 }, portal);
      expect(new Set(mine.deliveries.map((d) => d.owner))).toEqual(new Set([OWNER]));
      expect(new Set(mine.deliveries.map((d) => d.messageId))).toEqual(new Set([msgs.a, msgs.all]));
      expect((await c.listDeliveries({ messageId: msgs.all }, portal)).deliveries.map((d) => d.subscriptionId).sort()).toEqual([subs.a1, subs.a2].sort());
      // Another owner's or the tenant's message or subscription lists nothing, as another tenant's does.
      for (const req of [{ messageId: msgs.b }, { messageId: msgs.t }, { subscriptionId: subs.b }, { subscriptionId: subs.t }]) {
        expect((await c.listDeliveries(req, portal)).deliveries).toEqual([]);
        expect((await c.listDeliveries(req, globex)).deliveries).toEqual([]);
      }
      await denied(c.listDeliveries({ owner: "customer-b" }, portal), /^owner: /);
    }
    for (const id of [msgs.b, msgs.t]) await notFoundAsElsewhere((c, o) => c.getMessage({ id }, o));
    for (const [m, s] of [[msgs.b, subs.b], [msgs.t, subs.t], [msgs.all, subs.b], [msgs.all, subs.t]] as const) {
      const deliveryId = (await deliveryOf(m, s)).id;
      await notFoundAsElsewhere((c, o) => c.redeliver({ deliveryId }, o));
    }
    for (const subscriptionId of [subs.b, subs.t]) {
      await notFoundAsElsewhere((c, o) => c.recoverDeliveries({ subscriptionId, since: timestampFromDate(since) }, o));
    }
  });

  it("Redeliver and RecoverDeliveries act on its owner's failed deliveries", async () => {
    const failed = await deliveryOf(msgs.a, subs.a2);
    expect(failed.status).toBe(DeliveryStatus.FAILED);
    const again = await client.redeliver({ deliveryId: failed.id }, portal);
    expect(again.delivery).toMatchObject({ messageId: msgs.a, subscriptionId: subs.a2, owner: OWNER, redeliveryOf: failed.id });
    await finished(msgs.a);
    const recovered = await connectClient(server).recoverDeliveries({ subscriptionId: subs.a2, since: timestampFromDate(since) }, portal);
    expect(recovered.deliveries.length).toBeGreaterThan(0);
    expect(new Set(recovered.deliveries.map((d) => d.subscriptionId))).toEqual(new Set([subs.a2]));
    await finished(msgs.a);
  });

  it("WatchDeliveries streams its owner's outcomes only", async () => {
    for (const [, c] of clients) {
      await denied(
        (async () => {
          for await (const _ of c.watchDeliveries({ owner: "customer-b" }, portal)) break;
        })(),
        /^owner: /,
      );
      const err = await failure(
        (async () => {
          for await (const _ of c.watchDeliveries({ subscriptionId: subs.b }, portal)) break;
        })(),
      );
      expect([err.code, err.rawMessage]).toEqual([Code.NotFound, `subscription_id: subscription "${subs.b}" not found`]);
    }
    const stop = new AbortController();
    const seen: Delivery[] = [];
    const watching = (async () => {
      try {
        for await (const res of client.watchDeliveries({}, { ...portal, signal: stop.signal })) seen.push(res.delivery!);
      } catch (err) {
        if (!stop.signal.aborted) throw err;
      }
    })();
    // Triggers until the watch has seen this owner's (each round also sends the other owner and the tenant one it must not see).
    await waitFor(
      async () => {
        for (const owner of ["customer-b", "", OWNER]) await client.trigger({ event: "order.watched", owner }, acme);
        return seen.some((d) => d.event === "order.watched");
      },
      { what: "this owner's outcome on the watch", intervalMs: 200 },
    );
    stop.abort();
    await watching;
    expect(new Set(seen.map((d) => d.owner))).toEqual(new Set([OWNER]));
  });

  it("the catalog, read", async () => {
    for (const [, c] of clients) {
      expect((await c.getEventType({ name: "order.created" }, portal)).eventType).toMatchObject({ name: "order.created", description: "An order was placed" });
      const names = (await c.listEventTypes({}, portal)).eventTypes.map((e) => e.name);
      expect(names).toEqual(expect.arrayContaining(["order.created", "order.noexample", "hookwire.endpoint.disabled"]));
    }
  });

  it("GetPortalSession: its own owner", async () => {
    expect((await client.getPortalSession({}, portal)).owner).toBe(OWNER);
  });
});

describe("the RPCs a portal session may not call", () => {
  it("answer PERMISSION_DENIED over every protocol, and change nothing", async () => {
    const body = new TextEncoder().encode("{}");
    const calls: Record<string, (c: Client<typeof WebhookService>, o: CallOptions) => Promise<unknown>> = {
      Sign: (c, o) => c.sign({ body, secret: "s" }, o),
      Verify: (c, o) => c.verify({ body, secret: "s", signature: "sha256=00" }, o),
      Trigger: (c, o) => c.trigger({ event: "order.created", payload: valueFromJson({ id: "x" }), owner: OWNER }, o),
      Send: (c, o) => c.send({ url: rcv.url("/sent"), secret: "s", payload: { event: "order.created", payload: valueFromJson({}) } }, o),
      CreateEventType: (c, o) => c.createEventType({ name: "portal.made" }, o),
      UpdateEventType: (c, o) => c.updateEventType({ name: "order.created", description: "changed" }, o),
      DeleteEventType: (c, o) => c.deleteEventType({ name: "order.created" }, o),
      CreatePortalSession: (c, o) => c.createPortalSession({ owner: OWNER }, o),
      RevokePortalSessions: (c, o) => c.revokePortalSessions({ owner: OWNER }, o),
    };
    expect(Object.keys(calls).sort()).toEqual([...REFUSED].sort());
    const before = (await client.listDeliveries({ pageSize: 100, owner: OWNER }, acme)).deliveries.length;
    for (const [name, call] of Object.entries(calls)) {
      for (const [, c] of clients) await denied(call(c, portal), new RegExp(`^${name}: not open to a portal session`));
    }
    // The session is still open (revoking was refused), the catalog unchanged, nothing sent or triggered.
    expect((await client.getPortalSession({}, portal)).owner).toBe(OWNER);
    expect((await client.getEventType({ name: "order.created" }, acme)).eventType?.description).toBe("An order was placed");
    await expect(client.getEventType({ name: "portal.made" }, acme)).rejects.toMatchObject({ code: Code.NotFound });
    expect(rcv.requests("/sent")).toEqual([]);
    expect((await client.listDeliveries({ pageSize: 100, owner: OWNER }, acme)).deliveries.length).toBe(before);
    const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(Number(/^hookwire_portal_calls_refused_total\{reason="method"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(REFUSED.length * 2);
    expect(Number(/^hookwire_portal_calls_refused_total\{reason="id"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  });
});

describe("SendTestEvent", () => {
  type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;
  type Unary = (req: object, md: grpc.Metadata, cb: Callback<Record<string, unknown>>) => void;
  let stub: grpc.Client & Record<string, Unary>;

  beforeAll(() => {
    const def = protoLoader.loadSync("hookwire/v1/webhook_service.proto", {
      includeDirs: [fileURLToPath(new URL("../../proto", import.meta.url))],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      hookwire: { v1: { WebhookService: new (addr: string, creds: grpc.ChannelCredentials) => typeof stub } };
    };
    stub = new pkg.hookwire.v1.WebhookService(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });
  afterAll(() => stub?.close());

  /** A call from @grpc/grpc-js, which knows only the .proto files. */
  function grpcJs(method: string, req: object, key: string): Promise<Record<string, unknown>> {
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${key}`);
    return new Promise((resolveCall, reject) => stub[method]!.call(stub, req, md, (err, res) => (err ? reject(err) : resolveCall(res))));
  }

  /** The requests the receiver got for a message. */
  const arrived = (messageId: string) => rcv.requests().filter((r) => r.headers["webhook-id"] === messageId);

  it("from a grpc-js client: the payload given reaches that one endpoint, signed, and is the owner's message", async () => {
    // (protobufjs names the well-known types' fields in camelCase, whatever keepCase says.)
    const res = await grpcJs("SendTestEvent", { subscription_id: subs.a1, event: "order.created", payload: { fields: { id: { stringValue: "test-1" } } } }, token);
    const messageId = res.message_id as string;
    expect(res.delivery).toMatchObject({ subscription_id: subs.a1, owner: OWNER, event: "order.created", message_id: messageId, status: "DELIVERY_STATUS_PENDING" });
    const [got] = await rcv.waitFor(() => arrived(messageId).length === 1).then(() => arrived(messageId));
    expect(got!.path).toBe("/a1");
    expect(got!.verifyError).toBe("");
    expect(got!.verified).toBe(true);
    expect(JSON.parse(got!.body)).toMatchObject({ event: "order.created", payload: { id: "test-1" } });
    expect(got!.headers["x-webhook-event"]).toBe("order.created");
    expect((await client.getMessage({ id: messageId }, portal)).message).toMatchObject({ owner: OWNER, deliveries: 1, allOwners: false });
    const [done] = await finished(messageId);
    expect(done).toMatchObject({ status: DeliveryStatus.DELIVERED, subscriptionId: subs.a1 });
  });

  it("over Connect: without a payload the catalog's example; any event, whatever the endpoint's patterns; no other endpoint", async () => {
    const c = connectClient(server);
    const example = await c.sendTestEvent({ subscriptionId: subs.a1, event: "order.created" }, portal);
    await rcv.waitFor(() => arrived(example.messageId).length === 1);
    expect(JSON.parse(arrived(example.messageId)[0]!.body).payload).toEqual({ id: "ord_example" });
    // /a1 takes "order.*" only: a test event of another event is sent all the same, and to it alone.
    const other = await c.sendTestEvent({ subscriptionId: subs.a1, event: "invoice.paid", payload: { n: 1, nested: { ok: true } } }, portal);
    await rcv.waitFor(() => arrived(other.messageId).length === 1);
    const [got] = arrived(other.messageId);
    expect([got!.path, got!.verified]).toEqual(["/a1", true]);
    expect(JSON.parse(got!.body)).toMatchObject({ event: "invoice.paid", payload: { n: 1, nested: { ok: true } } });
    expect((await finished(other.messageId)).map((d) => d.subscriptionId)).toEqual([subs.a1]);
  });

  it("refuses a payload its event type's schema refuses, a missing example, a disabled endpoint, and another owner's endpoint", async () => {
    for (const [, c] of clients) {
      const bad = await failure(c.sendTestEvent({ subscriptionId: subs.a1, event: "order.created", payload: { id: 5 } }, portal));
      expect([Code[bad.code], bad.rawMessage]).toEqual([Code[Code.InvalidArgument], expect.stringMatching(/^payload\/id: must be string/)]);
      const none = await failure(c.sendTestEvent({ subscriptionId: subs.a1, event: "order.noexample" }, portal));
      expect([Code[none.code], none.rawMessage]).toEqual([Code[Code.InvalidArgument], expect.stringMatching(/^payload: is required: event type "order.noexample" has no example/)]);
      const builtin = await failure(c.sendTestEvent({ subscriptionId: subs.a1, event: "hookwire.endpoint.disabled", payload: {} }, portal));
      expect([Code[builtin.code], builtin.rawMessage]).toEqual([Code[Code.InvalidArgument], expect.stringMatching(/^event: /)]);
    }
    await client.updateSubscription({ id: subs.a2, disabled: true }, portal);
    const off = await failure(client.sendTestEvent({ subscriptionId: subs.a2, event: "order.created" }, portal));
    expect([Code[off.code], off.rawMessage]).toEqual([Code[Code.FailedPrecondition], `subscription_id: subscription "${subs.a2}" is disabled; enable it to send it a test event`]);
    await client.updateSubscription({ id: subs.a2, disabled: false }, portal);
    for (const subscriptionId of [subs.b, subs.t]) {
      await notFoundAsElsewhere((c, o) => c.sendTestEvent({ subscriptionId, event: "order.created" }, o));
    }
    await expect(grpcJs("SendTestEvent", { subscription_id: subs.b, event: "order.created" }, token)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(grpcJs("Trigger", { event: "order.created" }, token)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
  });

  it("a tenant's key sends one to any endpoint of the tenant, its own included", async () => {
    const res = await grpcJs("SendTestEvent", { subscription_id: subs.t, event: "order.created" }, KEYS.acme);
    const messageId = res.message_id as string;
    await rcv.waitFor(() => arrived(messageId).length === 1);
    expect([arrived(messageId)[0]!.path, arrived(messageId)[0]!.verified]).toEqual(["/t", true]);
    expect((await client.getMessage({ id: messageId }, acme)).message?.owner).toBe("");
  });
});
