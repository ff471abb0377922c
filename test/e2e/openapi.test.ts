// The OpenAPI document (openapi/, generated from proto/) describes what the server really accepts and answers:
// the server serves the committed document; a client made by well-known OpenAPI tools from it (openapi-typescript's
// types, openapi-fetch's calls) registers a loopback receiver and triggers an event, and the receiver gets the signed
// delivery; every answer, errors included, satisfies the document's own schema (JSON Schema 2020-12, checked by ajv
// with `additionalProperties: false` as generated, so a field the document does not name fails).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import createClient from "openapi-fetch";
import { request } from "undici";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { components, paths } from "../../openapi/typescript/hookwire-api.js";
import { KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

const DIR = fileURLToPath(new URL("../../openapi/", import.meta.url));
const committed = {
  yaml: readFileSync(`${DIR}hookwire.openapi.yaml`, "utf8"),
  json: readFileSync(`${DIR}hookwire.openapi.json`, "utf8"),
};
const doc = JSON.parse(committed.json) as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };

type Schemas = components["schemas"];
/** Checks a value against one of the document's schemas, its $refs resolved within the document. */
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
// Protobuf's JSON names for integer widths and bytes: the types already say what they hold.
for (const f of ["int32", "int64", "byte", "binary"]) ajv.addFormat(f, true);
ajv.addSchema(doc, "openapi");
function conforms(schema: keyof Schemas, value: unknown): void {
  const validate = ajv.getSchema(`openapi#/components/schemas/${schema.replaceAll("/", "~1")}`);
  if (!validate) throw new Error(`no schema ${schema} in the document`);
  expect(validate(value) ? [] : validate.errors, `${schema}: ${JSON.stringify(value)}`).toEqual([]);
}

/** Connect's protocol version header, which the document lists as required on every call. */
const CONNECT = { header: { "Connect-Protocol-Version": 1 } } as const;

let server: RunningServer;
let rcv: Receiver;

beforeAll(async () => {
  [server, rcv] = await Promise.all([startServer(), startReceiver()]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), rcv?.close()]);
});

/** A client of the generated types; null for one without a key. */
function client(key: string | null = KEYS.acme) {
  return createClient<paths>({ baseUrl: server.baseUrl, headers: key ? { authorization: `Bearer ${key}` } : {} });
}

describe("the served document", () => {
  it.each([
    ["/openapi.yaml", "yaml", "application/yaml"],
    ["/openapi.json", "json", "application/json"],
  ] as const)("GET %s answers the committed document, with no key", async (path, kind, type) => {
    const res = await request(`${server.baseUrl}${path}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe(type);
    expect(res.headers["cache-control"]).toBe("public, max-age=300");
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    expect(await res.body.text()).toBe(committed[kind]);
    // Revalidation is a 304 with no body.
    const again = await request(`${server.baseUrl}${path}`, { headers: { "if-none-match": String(res.headers.etag) } });
    expect(again.statusCode).toBe(304);
    await again.body.dump();
  });

  it("is the Connect JSON surface: one POST per unary RPC, the bearer key, Connect's error", () => {
    const register = (doc.paths["/hookwire.v1.WebhookService/Register"] as { post: Record<string, any> }).post;
    expect(Object.keys(register.requestBody.content)).toEqual(["application/json"]);
    expect(register.responses.default.content["application/json"].schema.$ref).toBe("#/components/schemas/connect.error");
    const full = JSON.parse(committed.json);
    expect(full.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(full.security).toEqual([{ apiKey: [] }]);
  });

  it("answers anything but GET and HEAD with 405", async () => {
    const res = await request(`${server.baseUrl}/openapi.json`, { method: "POST", body: "{}" });
    expect(res.statusCode).toBe(405);
    await res.body.dump();
  });
});

describe("a client generated from the document", () => {
  it("registers a loopback receiver and triggers an event, which arrives signed", async () => {
    const api = client();
    const path = "/openapi-hook";
    const reg = await api.POST("/hookwire.v1.WebhookService/Register", {
      params: CONNECT,
      body: { url: rcv.url(path), events: ["order.*"], description: "openapi client", retries: 1, headers: { "x-customer": "c1" } },
    });
    expect(reg.error).toBeUndefined();
    conforms("hookwire.v1.RegisterResponse", reg.data);
    const { secret, subscription } = reg.data!;
    expect(secret).toMatch(/^whsec_/);
    expect(subscription).toMatchObject({ url: rcv.url(path), events: ["order.*"], description: "openapi client", retries: 1, headers: { "x-customer": "********" } });
    rcv.route(path, { secret: secret! });

    const trig = await api.POST("/hookwire.v1.WebhookService/Trigger", {
      params: CONNECT,
      body: { event: "order.created", payload: { id: 42, items: ["a", "b"] } },
    });
    expect(trig.error).toBeUndefined();
    conforms("hookwire.v1.TriggerResponse", trig.data);
    expect(trig.data).toMatchObject({ deliveries: 1 });

    await rcv.waitFor((all) => all.some((r) => r.path === path));
    const delivery = rcv.requests(path)[0]!;
    expect(delivery.verifyError).toBe("");
    expect(delivery.verified).toBe(true);
    expect(delivery.headers["webhook-id"]).toBe(trig.data!.messageId);
    expect(delivery.headers["x-customer"]).toBe("c1");
    expect(JSON.parse(delivery.body)).toMatchObject({ event: "order.created", payload: { id: 42, items: ["a", "b"] } });

    // The message and its delivery as the document describes them (timestamps, enums, int64 as strings).
    const msg = await api.POST("/hookwire.v1.WebhookService/ListDeliveries", { params: CONNECT, body: { messageId: trig.data!.messageId! } });
    conforms("hookwire.v1.ListDeliveriesResponse", msg.data);
    expect(msg.data?.deliveries?.[0]).toMatchObject({ subscriptionId: subscription!.id, event: "order.created" });

    const del = await api.POST("/hookwire.v1.WebhookService/DeleteSubscription", { params: CONNECT, body: { id: subscription!.id! } });
    expect(del.error).toBeUndefined();
    conforms("hookwire.v1.DeleteSubscriptionResponse", del.data);
  });

  it("sends bytes as base64, int64 as strings and enums by name, as the document says", async () => {
    const api = client();
    // The smoke test's vector (.ci/run): HMAC-SHA256 of "Hello, World!".
    const github = await api.POST("/hookwire.v1.WebhookService/Sign", {
      params: CONNECT,
      body: { body: Buffer.from("Hello, World!").toString("base64"), secret: "It's a Secret to Everybody" },
    });
    expect(github.data).toEqual({ signature: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" });

    const secret = "whsec_" + Buffer.alloc(32, 7).toString("base64");
    const timestamp = Math.floor(Date.now() / 1000);
    const body = '{"event":"ping"}';
    const signed = await api.POST("/hookwire.v1.WebhookService/Sign", {
      params: CONNECT,
      body: { body: Buffer.from(body).toString("base64"), secret, scheme: "SIGNATURE_SCHEME_STANDARD_WEBHOOKS", webhookId: "msg_1", timestamp: String(timestamp) },
    });
    conforms("hookwire.v1.SignResponse", signed.data);
    // An independent Standard Webhooks library accepts what the server signed.
    expect(() =>
      new Webhook(secret).verify(body, { "webhook-id": "msg_1", "webhook-timestamp": String(timestamp), "webhook-signature": signed.data!.signature! }),
    ).not.toThrow();
  });

  it("gets Connect's error JSON, with a code the document lists, for a bad input and for a missing key", async () => {
    const codes = (doc.components.schemas["connect.error"] as { properties: { code: { enum: string[] } } }).properties.code.enum;

    const bad = await client().POST("/hookwire.v1.WebhookService/Register", { params: CONNECT, body: { url: "not a url", events: ["order.*"] } });
    expect(bad.data).toBeUndefined();
    expect(bad.response.status).toBe(400);
    expect(bad.response.headers.get("content-type")).toBe("application/json");
    conforms("connect.error", bad.error);
    expect(bad.error).toMatchObject({ code: "invalid_argument" });
    expect(bad.error?.message).toEqual(expect.any(String));
    expect(codes).toContain(bad.error!.code);

    const anonymous = await client(null).POST("/hookwire.v1.WebhookService/Trigger", { params: CONNECT, body: { event: "order.created" } });
    expect(anonymous.response.status).toBe(401);
    conforms("connect.error", anonymous.error);
    expect(anonymous.error).toMatchObject({ code: "unauthenticated" });
    expect(codes).toContain(anonymous.error!.code);
  });
});
