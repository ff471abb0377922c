// What a receiver gets is the caller's JSON: awkward payloads through Trigger over Connect JSON and
// binary gRPC, compared as canonical JSON text (never through toEqual or object assignment, which
// treat "__proto__" specially) with what arrives at a real receiver and what GetMessage returns.
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookManager, type HookwireManager } from "@hookwire/sdk";
import { valueFromJsonText, valueToJsonText } from "@hookwire/sdk/internal";
import { LIMITS, validateTimestamp } from "../../server/domain/validation.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, failure, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";

let server: RunningServer;
let rcv: Receiver;
let grpc: ReturnType<typeof grpcClient>;
let hw: HookwireManager;
const acme = { headers: bearer(KEYS.acme) };

/** JSON text with object keys sorted, from JSON.parse (which keeps "__proto__" as an own key). */
function canonical(text: string): string {
  const write = (v: unknown): string => {
    if (v === null || typeof v !== "object") return JSON.stringify(v);
    if (Array.isArray(v)) return `[${v.map(write).join(",")}]`;
    const obj = v as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${write(obj[k])}`)
      .join(",")}}`;
  };
  return write(JSON.parse(text));
}

/** The payload of an envelope, as JSON text cut from the body rather than re-serialised from an object. */
function payloadOf(body: string): string {
  const start = body.indexOf(',"payload":') + ',"payload":'.length;
  const end = body.lastIndexOf(',"timestamp":');
  expect(body.startsWith('{"event":')).toBe(true);
  return body.slice(start, end);
}

/** A Connect-protocol JSON call written by hand, so no client-side protobuf code touches the payload. */
async function connectJson(method: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server.baseUrl}/hookwire.v1.WebhookService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...bearer(KEYS.acme) },
    body,
  });
  return { status: res.status, text: await res.text() };
}

const nested = (levels: number) => "[".repeat(levels - 1) + '{"deep":1}' + "]".repeat(levels - 1);

const CORPUS = [
  '{"__proto__":{"polluted":true},"a":1}',
  '{"__proto__":null,"b":{"__proto__":[1,{"__proto__":"x"}]}}',
  '{"constructor":{"prototype":{"x":1}},"toString":"s","hasOwnProperty":0,"valueOf":null,"__defineGetter__":true}',
  '{"":"empty key"," ":[],"\\u0000":0}',
  '{"esc":"\\u0000\\u001f\\"\\\\\\/\\b\\f\\n\\r\\t\\u2028\\u2029","pair":"\\ud83d\\ude00","raw":"𝄞 ü ç 中","\\u00fc":"key escaped"}',
  "[0,-0,1e308,-1e308,5e-324,-5e-324,9007199254740993,-9007199254740993,1.5,-2.25e-7,123456789012345678901234567890,1E2]",
  '{"2":"b","1":"a","x":"c"}',
  "null",
  '"just a string"',
  "true",
  "-42.5",
  "[]",
  "{}",
  nested(LIMITS.payloadDepth),
];

beforeAll(async () => {
  rcv = await startReceiver();
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true" } });
  grpc = grpcClient(server);
  hw = createWebhookManager({ baseUrl: server.baseUrl, apiKey: KEYS.acme });
  const reg = await grpc.register({ url: rcv.url("/corpus"), events: ["payload.*"] }, acme);
  rcv.route("/corpus", { secret: reg.secret });
});
afterAll(async () => {
  await server?.stop();
  await rcv?.close();
});

describe("payloads arrive as the caller's JSON", () => {
  it.each(CORPUS.map((text, i) => [i, text] as const))("payload %i over Connect JSON and over binary gRPC", async (_, text) => {
    const viaJson = await connectJson("Trigger", `{"event":"payload.json","payload":${text}}`);
    expect(viaJson.status, viaJson.text).toBe(200);
    const jsonId = (JSON.parse(viaJson.text) as { messageId: string }).messageId;
    // The SDK's trigger, over its default transport (binary gRPC).
    const grpcId = (await hw.trigger("payload.grpc", JSON.parse(text))).messageId;
    const received = await rcv.waitFor((all) => [jsonId, grpcId].every((id) => all.some((r) => r.headers["webhook-id"] === id)));
    for (const id of [jsonId, grpcId]) {
      const got = received.find((r) => r.headers["webhook-id"] === id)!;
      expect(got.verified, got.verifyError).toBe(true);
      expect(canonical(payloadOf(got.body)), `delivered ${id}`).toBe(canonical(text));
      const message = (await grpc.getMessage({ id }, acme)).message!;
      expect(canonical(valueToJsonText(message.payload)), `GetMessage over gRPC ${id}`).toBe(canonical(text));
      {
        const viaConnect = await connectJson("GetMessage", JSON.stringify({ id }));
        const payload = (JSON.parse(viaConnect.text) as { message: { payload?: unknown } }).message.payload;
        expect(canonical(JSON.stringify(payload ?? null)), `GetMessage over Connect JSON ${id}`).toBe(canonical(text));
      }
    }
  });

  it("a lone surrogate, which protobuf strings cannot carry, is refused with INVALID_ARGUMENT", async () => {
    for (const text of ['{"s":"\\ud800"}', '{"\\udc00":1}']) {
      const res = await connectJson("Trigger", `{"event":"payload.json","payload":${text}}`);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/^payload: .*lone UTF-16 surrogate/) });
    }
  });
});

describe("one nesting limit for every protocol", () => {
  it(`a payload ${LIMITS.payloadDepth} levels deep stored over Connect JSON reads back over binary gRPC`, async () => {
    const text = nested(LIMITS.payloadDepth);
    const res = await connectJson("Trigger", `{"event":"payload.deep","payload":${text}}`);
    expect(res.status, res.text).toBe(200);
    const id = (JSON.parse(res.text) as { messageId: string }).messageId;
    const message = (await grpc.getMessage({ id }, acme)).message!;
    expect(valueToJsonText(message.payload)).toBe(text);
    expect(canonical(JSON.stringify((await hw.getMessage(id)).payload))).toBe(canonical(text));
  });

  it("one level more is refused over Connect JSON and over binary gRPC, for Trigger and Send", async () => {
    const text = nested(LIMITS.payloadDepth + 1);
    const expected = new RegExp(`^payload: is nested deeper than ${LIMITS.payloadDepth} levels`);
    const res = await connectJson("Trigger", `{"event":"payload.deep","payload":${text}}`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(expected) });
    const sendJson = await connectJson(
      "Send",
      JSON.stringify({ url: rcv.url("/never"), secret: "s3cret", payload: { event: "payload.deep", payload: "PAYLOAD" } }).replace('"PAYLOAD"', text),
    );
    expect(sendJson.status).toBe(400);
    expect(JSON.parse(sendJson.text)).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(expected) });
    const payload = valueFromJsonText(text);
    const trig = await failure(grpc.trigger({ event: "payload.deep", payload }, acme));
    expect([trig.code, trig.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(expected)]);
    const send = await failure(grpc.send({ url: rcv.url("/never"), secret: "s3cret", payload: { event: "payload.deep", payload } }, acme));
    expect([send.code, send.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(expected)]);
    expect(rcv.requests("/never")).toHaveLength(0);
  });
});

describe("Send's payload.timestamp", () => {
  const GOOD = ["2026-11-28T23:42:49.533Z", "2026-11-28T23:42:49Z", "2026-11-28t23:42:49z", "2024-02-29T00:00:00+01:00", "2016-12-31T23:59:60Z", "2026-01-01T00:00:00.123456789-23:59"];
  const BAD = [
    "2020",
    "Tuesday, 1 December 2026",
    "Tue Dec 01 2026 10:00:00 GMT+0000",
    "2026-12-01",
    "2026-12-01 10:00:00Z",
    "2026-12-01T10:00Z",
    "2026-12-01T10:00:00",
    "2026-13-01T10:00:00Z",
    "2023-02-29T10:00:00Z",
    "2026-04-31T10:00:00Z",
    "2026-12-01T24:00:00Z",
    "2026-12-01T10:60:00Z",
    "2026-12-01T10:00:61Z",
    "2026-12-01T10:00:00+24:00",
    "2026-12-01T10:00:00+0100",
    "2026-12-01T10:00:00.Z",
    "+002026-12-01T10:00:00Z",
    `2026-12-01T10:00:00.${"1".repeat(60)}Z`,
  ];

  it("accepts RFC 3339 date-times only", () => {
    for (const t of GOOD) expect(validateTimestamp(t, "payload.timestamp"), t).toBe(t);
    for (const t of BAD) expect(() => validateTimestamp(t, "payload.timestamp"), t).toThrow(/^payload\.timestamp: ".*" is not an RFC 3339 date-time/);
  });

  it("Send answers INVALID_ARGUMENT naming payload.timestamp, and delivers the timestamp as given", async () => {
    for (const timestamp of ["2020", "Tuesday, 1 December 2026", "2026-12-01 10:00:00Z"]) {
      const err = await failure(grpc.send({ url: rcv.url("/ts"), secret: "s3cret", payload: { event: "ts.bad", timestamp } }, acme));
      expect([err.code, err.rawMessage], timestamp).toEqual([Code.InvalidArgument, expect.stringMatching(/^payload\.timestamp: /)]);
    }
    expect(rcv.requests("/ts")).toHaveLength(0);
    const timestamp = "2026-11-28T23:42:49.533+01:00";
    await grpc.send({ url: rcv.url("/ts"), secret: "s3cret", payload: { event: "ts.good", timestamp } }, acme);
    expect(JSON.parse(rcv.requests("/ts")[0]!.body)).toMatchObject({ event: "ts.good", timestamp });
  });
});
