// The event type catalog on the real server: CRUD over gRPC and Connect's JSON, pages in name order with
// the built-ins among them, the refusals (each naming its field or the failing place), Triggers checked
// against their event's schema (and a schema change seen by the next Trigger on another server process
// sharing the database), the quota, and the SDK's calls.
import type { JsonObject } from "@bufbuild/protobuf";
import type { Value } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookManager, InvalidArgumentError, NotFoundError, type HookwireManager } from "@hookwire/sdk";
import { valueFromJson } from "@hookwire/sdk/internal";
import { runCli, runCliJson, type CliOptions } from "../helpers/cli.js";
import { bearer, failure, grpcClient, KEYS, startServer, uniqueDatabase, type RunningServer } from "../helpers/server.js";

const acme = { headers: bearer(KEYS.acme) };
const globex = { headers: bearer(KEYS.globex) };
const json = (v: unknown) => valueFromJson(v);
const MAX_EVENT_TYPES = 12;
const BUILTINS = ["hookwire.delivery.exhausted", "hookwire.endpoint.disabled"];

const ORDER_SCHEMA = {
  type: "object",
  properties: {
    id: { type: "string" },
    items: { type: "array", items: { type: "object", properties: { price: { type: "number" } }, required: ["price"] } },
  },
  required: ["id"],
};

let server: RunningServer;
/** A second process on the same database: what one changes, the other's next Trigger applies. */
let other: RunningServer;
let client: ReturnType<typeof grpcClient>;
let sdk: HookwireManager;

beforeAll(async () => {
  const database = uniqueDatabase("catalog");
  // A loopback URL nothing listens on: Triggers need a subscription to count deliveries, none is sent anywhere.
  const env = { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_MAX_EVENT_TYPES: String(MAX_EVENT_TYPES), HOOKWIRE_RETRIES: "0" };
  // One after the other: two first starts on a fresh database race to record its layout.
  server = await startServer({ database, env });
  other = await startServer({ database, env });
  client = grpcClient(server);
  sdk = createWebhookManager({ baseUrl: server.baseUrl, apiKey: KEYS.acme });
  await client.register({ url: "http://127.0.0.1:9/orders", events: ["order.*", "invoice.*"] }, acme);
});
afterAll(async () => {
  await Promise.all([server?.stop(), other?.stop()]);
});

/** Connect's JSON over HTTP/1.1, as curl or a browser sends it. */
async function connectJson(method: string, body: unknown, key: string = KEYS.acme): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.baseUrl}/hookwire.v1.WebhookService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("CRUD", () => {
  it("creates, gets, updates and deletes an event type, within its tenant only", async () => {
    const created = (await client.createEventType({ name: "order.created", description: "An order was placed", schema: ORDER_SCHEMA, example: json({ id: "o_1", items: [{ price: 9.5 }] }) }, acme)).eventType!;
    expect(created).toMatchObject({ name: "order.created", description: "An order was placed", schema: ORDER_SCHEMA, builtin: false });
    expect(created.example?.kind.case).toBe("structValue");
    expect(Math.abs(Number(created.createdAt!.seconds) * 1000 - Date.now())).toBeLessThan(60_000);
    expect(created.updatedAt).toEqual(created.createdAt);

    expect((await client.getEventType({ name: "order.created" }, acme)).eventType).toEqual(created);
    const notFound = await failure(client.getEventType({ name: "order.created" }, globex));
    expect([notFound.code, notFound.rawMessage]).toEqual([Code.NotFound, 'name: event type "order.created" not found']);
    expect((await client.listEventTypes({}, globex)).eventTypes.map((e) => e.name)).toEqual(BUILTINS);

    const dup = await failure(client.createEventType({ name: "order.created" }, acme));
    expect([dup.code, dup.rawMessage]).toEqual([Code.AlreadyExists, 'name: event type "order.created" already exists (change it with UpdateEventType)']);

    // Only what is set changes.
    const described = (await client.updateEventType({ name: "order.created", description: "Placed" }, acme)).eventType!;
    expect(described).toMatchObject({ description: "Placed", schema: ORDER_SCHEMA });
    expect(described.example).toEqual(created.example);
    // An empty schema and a null example remove them.
    const bare = (await client.updateEventType({ name: "order.created", schema: {}, example: json(null) }, acme)).eventType!;
    expect(bare.schema).toBeUndefined();
    expect(bare.example).toBeUndefined();
    expect(bare.description).toBe("Placed");
    expect(Number(bare.updatedAt!.seconds) * 1e3 + bare.updatedAt!.nanos / 1e6).toBeGreaterThanOrEqual(Number(created.createdAt!.seconds) * 1e3 + created.createdAt!.nanos / 1e6);

    expect((await failure(client.deleteEventType({ name: "order.created" }, globex))).code).toBe(Code.NotFound);
    await client.deleteEventType({ name: "order.created" }, acme);
    expect((await failure(client.getEventType({ name: "order.created" }, acme))).code).toBe(Code.NotFound);
    expect((await failure(client.updateEventType({ name: "order.created", description: "x" }, acme))).code).toBe(Code.NotFound);
    expect((await failure(client.deleteEventType({ name: "order.created" }, acme))).code).toBe(Code.NotFound);
  });

  it("takes and answers the schema as a plain JSON object in Connect's JSON", async () => {
    const schema = { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", properties: { amount: { type: "integer", minimum: 0 } } };
    const res = await connectJson("CreateEventType", { name: "refund.issued", schema, example: { amount: 12 } });
    expect(res.status).toBe(200);
    expect(res.body.eventType).toMatchObject({ name: "refund.issued", schema, example: { amount: 12 } });
    expect((res.body.eventType as Record<string, unknown>).builtin).toBeUndefined(); // false: omitted in proto3 JSON
    const refused = await connectJson("Trigger", { event: "refund.issued", payload: { amount: -1 } });
    expect(refused).toEqual({ status: 400, body: { code: "invalid_argument", message: 'payload/amount: must be >= 0 (the schema of event type "refund.issued")' } });
    await connectJson("DeleteEventType", { name: "refund.issued" });
  });
});

describe("ListEventTypes", () => {
  it("pages through the tenant's types and the built-ins in name order", async () => {
    const names = ["account.closed", "hookup.ready", "invoice.paid", "zebra.seen", "invoice.due"];
    for (const name of names) await client.createEventType({ name, description: `about ${name}` }, acme);
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await client.listEventTypes({ pageSize: 2, pageToken }, acme);
      expect(page.eventTypes.length).toBeLessThanOrEqual(2);
      seen.push(...page.eventTypes.map((e) => e.name));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken);
    expect(seen).toEqual([...names, ...BUILTINS].sort());
    expect(pages).toBe(4);
    // The default page holds them all.
    expect((await client.listEventTypes({}, acme)).eventTypes.map((e) => e.name)).toEqual(seen);
    const bad = await failure(client.listEventTypes({ pageToken: "bm90IGEgbmFtZQ" }, acme));
    expect([bad.code, bad.rawMessage]).toEqual([Code.InvalidArgument, "page_token: is not a token this list returned"]);
    for (const name of names) await client.deleteEventType({ name }, acme);
  });
});

describe("built-ins", () => {
  it("lists Hookwire's operational events with a description, a schema and an example, and no times", async () => {
    const builtins = (await client.listEventTypes({}, globex)).eventTypes;
    expect(builtins.map((b) => [b.name, b.builtin])).toEqual(BUILTINS.map((n) => [n, true]));
    for (const b of builtins) {
      expect(b.description).not.toBe("");
      expect(b.schema).toMatchObject({ type: "object", additionalProperties: false });
      expect(b.example?.kind.case).toBe("structValue");
      expect(b.createdAt).toBeUndefined();
    }
    const disabled = (await client.getEventType({ name: "hookwire.endpoint.disabled" }, acme)).eventType!;
    expect(Object.keys((disabled.schema as { properties: object }).properties)).toContain("subscription_id");
  });

  it.each([
    ["create", () => client.createEventType({ name: "hookwire.endpoint.disabled" }, acme), Code.InvalidArgument, /^name: "hookwire\.endpoint\.disabled": names starting with "hookwire\." are Hookwire's built-in/],
    ["create (any case)", () => client.createEventType({ name: "HOOKWIRE.custom" }, acme), Code.InvalidArgument, /^name: .*built-in operational events/],
    ["update", () => client.updateEventType({ name: "hookwire.endpoint.disabled", description: "x" }, acme), Code.FailedPrecondition, /^name: "hookwire\.endpoint\.disabled" is one of Hookwire's built-in event types, which cannot be changed$/],
    ["delete", () => client.deleteEventType({ name: "hookwire.delivery.exhausted" }, acme), Code.FailedPrecondition, /cannot be deleted$/],
    ["delete (not a built-in)", () => client.deleteEventType({ name: "hookwire.other" }, acme), Code.InvalidArgument, /^name: .*built-in operational events/],
  ])("cannot be changed by callers: %s", async (_, call, code, message) => {
    const err = await failure(call());
    expect(err.code).toBe(code);
    expect(err.rawMessage).toMatch(message);
  });
});

describe("refusals", () => {
  const big = { type: "object", description: "x".repeat(70_000) };
  const deep = JSON.parse('{"a":'.repeat(40) + "{}" + "}".repeat(40)) as JsonObject;
  it.each([
    [{ name: "" }, Code.InvalidArgument, /^name: is required$/],
    [{ name: "order created" }, Code.InvalidArgument, /^name: "order created" is not an event type/],
    [{ name: "order.*" }, Code.InvalidArgument, /^name: "order\.\*" is not an event type/],
    [{ name: "a".repeat(129) }, Code.InvalidArgument, /^name: .* at most 128 characters/],
    [{ name: "bad.description", description: "d".repeat(513) }, Code.InvalidArgument, /^description: is longer than 512 characters$/],
    [{ name: "bad.type", schema: { type: "object", properties: { price: { type: "numbr" } } } }, Code.InvalidArgument, /^schema\/properties\/price\/type: must be equal to one of the allowed values/],
    [{ name: "bad.ref", schema: { $ref: "https://example.com/order.json" } }, Code.InvalidArgument, /^schema: "\$ref" "https:\/\/example\.com\/order\.json" does not resolve inside the schema/],
    [{ name: "bad.draft", schema: { $schema: "http://json-schema.org/draft-04/schema#" } }, Code.InvalidArgument, /^schema\/\$schema: .* is not a supported draft/],
    [{ name: "bad.pattern", schema: { type: "string", pattern: "^(a+)+$" } }, Code.InvalidArgument, /^schema: pattern "\^\(a\+\)\+\$" has nested repetition/],
    [{ name: "bad.example", schema: ORDER_SCHEMA, example: json({ id: "o", items: [{ price: "9.50" }] }) }, Code.InvalidArgument, /^example\/items\/0\/price: must be number \(the example must satisfy the schema\)$/],
    [{ name: "big.schema", schema: big }, Code.ResourceExhausted, /^schema: 700\d\d bytes is over the limit of 65536 bytes$/],
    [{ name: "deep.schema", schema: deep }, Code.InvalidArgument, /^schema: is nested deeper than 32 levels/],
  ] as Array<[{ name: string; description?: string; schema?: JsonObject; example?: Value }, Code, RegExp]>)("refuses bad input, naming the field: %#", async (req, code, message) => {
    const err = await failure(client.createEventType(req, acme));
    expect(err.code).toBe(code);
    expect(err.rawMessage).toMatch(message);
    // Nothing was stored.
    expect([Code.NotFound, Code.InvalidArgument]).toContain((await failure(client.getEventType({ name: req.name }, acme))).code);
  });

  it("an update is checked the same way, and a new schema against the kept example", async () => {
    await client.createEventType({ name: "shipment.sent", schema: { type: "object" }, example: json({ carrier: "dhl" }) }, acme);
    const badSchema = await failure(client.updateEventType({ name: "shipment.sent", schema: { type: 5 } }, acme));
    expect([badSchema.code, badSchema.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/^schema\/type: /)]);
    const clash = await failure(client.updateEventType({ name: "shipment.sent", schema: { type: "object", required: ["tracking"] } }, acme));
    expect(clash.rawMessage).toBe("schema: the event type's example fails it at example: must have required property 'tracking'; change the example in the same call");
    const badExample = await failure(client.updateEventType({ name: "shipment.sent", example: json([1]) }, acme));
    expect(badExample.rawMessage).toBe("example: must be object (the example must satisfy the schema)");
    // Both in one call: the example is checked against the new schema.
    const both = (await client.updateEventType({ name: "shipment.sent", schema: { type: "object", required: ["tracking"] }, example: json({ tracking: "T1" }) }, acme)).eventType!;
    expect(both.schema).toEqual({ type: "object", required: ["tracking"] });
    await client.deleteEventType({ name: "shipment.sent" }, acme);
  });
});

describe("Trigger", () => {
  it("is refused naming the failing place when its payload fails its event's schema, and accepted when it satisfies it", async () => {
    await client.createEventType({ name: "order.paid", schema: ORDER_SCHEMA }, acme);
    const refused = await failure(client.trigger({ event: "order.paid", payload: json({ id: "o_1", items: [{ price: 1 }, { price: "2" }] }) }, acme));
    expect([refused.code, refused.rawMessage]).toEqual([Code.InvalidArgument, 'payload/items/1/price: must be number (the schema of event type "order.paid")']);
    const missing = await failure(client.trigger({ event: "order.paid", payload: json({ items: [] }) }, acme));
    expect(missing.rawMessage).toBe(`payload: must have required property 'id' (the schema of event type "order.paid")`);
    const ok = await client.trigger({ event: "order.paid", payload: json({ id: "o_1", items: [{ price: 1 }] }) }, acme);
    expect(ok.deliveries).toBe(1);
    // The other tenant has no such entry: anything goes, as before.
    expect((await client.trigger({ event: "order.paid", payload: json("anything") }, globex)).messageId).toMatch(/^msg_/);
  });

  it("behaves as before for events without an entry, or with an entry without a schema", async () => {
    await client.createEventType({ name: "invoice.voided", description: "no schema" }, acme);
    for (const event of ["invoice.voided", "order.unlisted"]) {
      expect((await client.trigger({ event, payload: json([1, "two", null]) }, acme)).deliveries).toBe(1);
    }
  });

  it("applies a changed schema to the next Trigger, on another server process too", async () => {
    const otherClient = grpcClient(other);
    await client.createEventType({ name: "order.shipped", schema: { type: "object", required: ["carrier"] } }, acme);
    // The other process has had Triggers of it before: whatever it keeps must not outlive the change.
    expect((await failure(otherClient.trigger({ event: "order.shipped", payload: json({}) }, acme))).rawMessage).toMatch(/^payload: must have required property 'carrier'/);
    for (let round = 0; round < 3; round++) {
      const field = `field${round}`;
      await client.updateEventType({ name: "order.shipped", schema: { type: "object", required: [field] } }, acme);
      const err = await failure(otherClient.trigger({ event: "order.shipped", payload: json({ carrier: "dhl" }) }, acme));
      expect(err.rawMessage).toMatch(new RegExp(`^payload: must have required property '${field}'`));
      expect((await otherClient.trigger({ event: "order.shipped", payload: json({ [field]: 1 }) }, acme)).deliveries).toBe(1);
    }
    // Removing the schema (through the other process), and deleting the entry, each end the checks at once.
    await otherClient.updateEventType({ name: "order.shipped", schema: {} }, acme);
    expect((await client.trigger({ event: "order.shipped", payload: json(1) }, acme)).deliveries).toBe(1);
    await otherClient.updateEventType({ name: "order.shipped", schema: { type: "string" } }, acme);
    expect((await failure(client.trigger({ event: "order.shipped", payload: json(1) }, acme))).rawMessage).toMatch(/^payload: must be string/);
    await client.deleteEventType({ name: "order.shipped" }, acme);
    expect((await otherClient.trigger({ event: "order.shipped", payload: json(1) }, acme)).deliveries).toBe(1);
  });
});

describe("quota", () => {
  it("refuses another event type over the tenant's quota, naming it, and frees a place on delete", async () => {
    const names = Array.from({ length: MAX_EVENT_TYPES }, (_, i) => `quota.t${String(i).padStart(2, "0")}`);
    for (const name of names) await client.createEventType({ name }, globex);
    const err = await failure(client.createEventType({ name: "quota.over" }, globex));
    expect([err.code, err.rawMessage]).toEqual([
      Code.ResourceExhausted,
      `event_types: tenant "globex" has ${MAX_EVENT_TYPES} event types and its quota is ${MAX_EVENT_TYPES} (HOOKWIRE_MAX_EVENT_TYPES); delete one before creating another`,
    ]);
    // Built-ins do not count, and another tenant's quota is its own.
    expect((await client.listEventTypes({ pageSize: 100 }, globex)).eventTypes).toHaveLength(MAX_EVENT_TYPES + BUILTINS.length);
    await client.createEventType({ name: "quota.acme" }, acme);
    await client.deleteEventType({ name: names[0]! }, globex);
    await client.createEventType({ name: "quota.over" }, globex);
    await client.deleteEventType({ name: "quota.acme" }, acme);
  });
});

describe("the SDK", () => {
  it("creates, lists, updates and deletes event types with plain objects, and trigger() reports the failing place", async () => {
    const created = await sdk.createEventType({ name: "user.signed_up", description: "A user signed up", schema: { type: "object", properties: { email: { type: "string", format: "email" } } }, example: { email: "a@example.com" } });
    expect(created).toMatchObject({ name: "user.signed_up", description: "A user signed up", example: { email: "a@example.com" }, builtin: false });
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(await sdk.getEventType("user.signed_up")).toEqual(created);
    const err = await sdk.trigger("user.signed_up", { email: "nope" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe("payload/email");
    expect((err as Error).message).toMatch(/^payload\/email: must match format "email"/);
    const page = await sdk.listEventTypes({ pageSize: 100 });
    expect(page.eventTypes.find((e) => e.name === "hookwire.endpoint.disabled")).toMatchObject({ builtin: true, createdAt: null });
    const cleared = await sdk.updateEventType({ name: "user.signed_up", schema: null, example: null });
    expect(cleared.schema).toBeNull();
    expect("example" in cleared).toBe(false);
    expect((await sdk.trigger("user.signed_up", { email: "nope" })).deliveries).toBe(0);
    await sdk.deleteEventType("user.signed_up");
    await expect(sdk.getEventType("user.signed_up")).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("the CLI", () => {
  it("hookwire event-types create, list, get, update and delete; a refused Trigger names the place and exits 3", { timeout: 60_000 }, async () => {
    const as: CliOptions = { env: { HOOKWIRE_API_KEY: KEYS.acme, HOOKWIRE_URL: server.baseUrl } };
    const schema = JSON.stringify({ type: "object", properties: { total: { type: "number" } }, required: ["total"] });
    const created = await runCliJson(["event-types", "create", "cart.checked_out", "--description", "A cart was paid", "--schema", schema, "--example", '{"total":3}'], as);
    expect(created).toMatchObject({ name: "cart.checked_out", description: "A cart was paid", schema: JSON.parse(schema), example: { total: 3 }, builtin: false });
    const listed = await runCli(["event-types", "list"], as);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^NAME +SCHEMA +KIND +DESCRIPTION\n/);
    expect(listed.stdout).toMatch(/cart\.checked_out +yes +own +A cart was paid/);
    expect(listed.stdout).toMatch(/hookwire\.endpoint\.disabled +yes +built-in +Hookwire disabled/);
    const shown = await runCli(["event-types", "get", "cart.checked_out"], as);
    expect(shown.stdout).toContain(`schema       ${schema}`);
    expect(shown.stdout).toContain('example      {"total":3}');

    const refused = await runCli(["trigger", "cart.checked_out", "--data", '{"total":"3"}'], as);
    expect([refused.code, refused.stderr]).toEqual([3, 'hookwire: invalid argument: payload/total: must be number (the schema of event type "cart.checked_out")\n']);
    const bad = await runCli(["event-types", "update", "cart.checked_out", "--schema", '{"type":"object","required":"total"}'], as);
    expect([bad.code, bad.stderr]).toEqual([3, "hookwire: invalid argument: schema/required: must be array\n"]);
    expect((await runCli(["event-types", "update", "cart.checked_out", "--schema", "[1]"], as)).stderr).toBe("hookwire: --schema: must be a JSON object (a JSON Schema)\n");

    const cleared = await runCliJson(["event-types", "update", "cart.checked_out", "--no-schema", "--no-example", "--description", "Paid"], as);
    expect(cleared).toMatchObject({ name: "cart.checked_out", description: "Paid", schema: null });
    expect("example" in cleared).toBe(false);
    expect((await runCli(["trigger", "cart.checked_out", "--data", '{"total":"3"}'], as)).code).toBe(0);
    expect((await runCli(["event-types", "delete", "cart.checked_out"], as)).stdout).toBe("deleted cart.checked_out\n");
    const gone = await runCli(["event-types", "get", "cart.checked_out"], as);
    expect([gone.code, gone.stderr]).toEqual([4, 'hookwire: not found: name: event type "cart.checked_out" not found\n']);
    const builtin = await runCli(["event-types", "delete", "hookwire.endpoint.disabled"], as);
    expect([builtin.code, builtin.stderr]).toEqual([8, "hookwire: failed_precondition: name: \"hookwire.endpoint.disabled\" is one of Hookwire's built-in event types, which cannot be deleted\n"]);
  });
});
