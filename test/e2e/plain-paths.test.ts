// The plain unary paths (server/api/http/connect-unary.ts, grpc-unary.ts) answer exactly as Connect does. Each
// call is sent twice as raw bytes, once plain and once with a deadline header, which sends it through
// Connect's own handler; status, headers that matter and body must agree.
import { connect as h2connect, type ClientHttp2Session } from "node:http2";
import { gunzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { request } from "undici";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SignRequestSchema } from "@hookwire/sdk/proto";
import { KEYS, startServer, type RunningServer } from "../helpers/server.js";

let server: RunningServer;
let h2: ClientHttp2Session;

beforeAll(async () => {
  server = await startServer();
  h2 = h2connect(server.baseUrl);
});
afterAll(async () => {
  h2?.close();
  await server.stop();
});

const path = (method: string) => `/hookwire.v1.WebhookService/${method}`;
const SIGN = { body: Buffer.from("Hello, World!").toString("base64"), secret: "It's a Secret to Everybody" };

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The headers both paths must agree on (not date, connection and the like). */
function relevant(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (/^(content-type|content-encoding|trailer-.*|grpc-.*)$/.test(k) && v !== undefined) out[k] = String(v);
  }
  return out;
}

async function connectCall(method: string, body: string | Uint8Array, headers: Record<string, string>, viaConnect: boolean): Promise<Answer> {
  const res = await request(`${server.baseUrl}${path(method)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEYS.acme}`, ...headers, ...(viaConnect ? { "connect-timeout-ms": "60000" } : {}) },
    body,
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const h = res.headers as Record<string, string>;
  const text = h["content-encoding"] === "gzip" ? gunzipSync(bytes).toString("utf8") : bytes.toString(h["content-type"] === "application/proto" ? "base64" : "utf8");
  return { status: res.statusCode, headers: relevant(h), body: text };
}

function grpcCall(method: string, message: Uint8Array, viaConnect: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    const stream = h2.request({
      ":method": "POST",
      ":path": path(method),
      "content-type": "application/grpc",
      te: "trailers",
      authorization: `Bearer ${KEYS.acme}`,
      ...(viaConnect ? { "grpc-timeout": "60S" } : {}),
    });
    let status = 0;
    const headers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      Object.assign(headers, relevant(h));
    });
    stream.on("trailers", (t) => Object.assign(headers, relevant(t)));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve({ status, headers, body: Buffer.concat(chunks).toString("base64") }));
    stream.on("error", reject);
    stream.end(frame);
  });
}

it("answers Connect unary calls (JSON and binary, successes and errors) as Connect's own handler does", async () => {
  const json = { "content-type": "application/json" };
  // A message whose answer is over Connect's 1 KiB compression threshold.
  const triggered = await connectCall("Trigger", JSON.stringify({ event: "plain.big", payload: { note: "y".repeat(3000) } }), json, false);
  expect(triggered.status).toBe(200);
  const bigMessage = JSON.stringify({ id: JSON.parse(triggered.body).messageId });
  const cases: Array<[string, string | Uint8Array, Record<string, string>]> = [
    ["Sign", JSON.stringify(SIGN), json],
    ["Sign", JSON.stringify({ ...SIGN, unknownField: 1 }), json], // unknown fields are ignored, as Connect reads JSON
    ["Sign", toBinary(SignRequestSchema, create(SignRequestSchema, { body: Buffer.from("hi"), secret: "s" })), { "content-type": "application/proto" }],
    ["Register", JSON.stringify({ url: "gopher://x", events: ["a"] }), json], // invalid argument, naming the field
    ["GetMessage", JSON.stringify({ id: "msg_nope" }), json], // not found
    ["GetMessage", "{not json", json], // does not decode: Connect answers it on both
    ["GetMessage", bigMessage, { ...json, "accept-encoding": "gzip" }], // a compressed answer
    ["GetMessage", bigMessage, { ...json, "accept-encoding": "br, gzip" }],
  ];
  for (const [method, body, headers] of cases) {
    const plain = await connectCall(method, body, headers, false);
    const viaConnect = await connectCall(method, body, headers, true);
    expect(plain, `${method} ${String(body).slice(0, 40)}`).toEqual(viaConnect);
  }
  const signed = await connectCall("Sign", JSON.stringify(SIGN), json, false);
  expect(signed.status).toBe(200);
  expect(JSON.parse(signed.body).signature).toBe("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  const refused = await connectCall("Register", JSON.stringify({ url: "gopher://x", events: ["a"] }), json, false);
  expect(refused.status).toBe(400);
  expect(JSON.parse(refused.body)).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/^url: /) });
  const missing = await connectCall("GetMessage", JSON.stringify({ id: "msg_nope" }), json, false);
  expect(missing.status).toBe(404);
  const compressed = await connectCall("GetMessage", bigMessage, { ...json, "accept-encoding": "gzip" }, false);
  expect(compressed.headers["content-encoding"]).toBe("gzip");
});

it("answers gRPC unary calls (successes and errors) as Connect's gRPC handler does", async () => {
  const cases: Array<[string, Uint8Array]> = [
    ["Sign", toBinary(SignRequestSchema, create(SignRequestSchema, { body: Buffer.from("Hello, World!"), secret: "It's a Secret to Everybody" }))],
    ["Sign", toBinary(SignRequestSchema, create(SignRequestSchema, { body: Buffer.from("hi"), secret: "" }))], // invalid argument
    ["GetMessage", new Uint8Array([0x0a, 0x08, ...Buffer.from("msg_nope")])], // not found
    ["GetMessage", new Uint8Array([0x0a, 0xff])], // does not decode: Connect answers it on both
  ];
  for (const [method, message] of cases) {
    const plain = await grpcCall(method, message, false);
    const viaConnect = await grpcCall(method, message, true);
    expect(plain, `${method} ${Buffer.from(message).toString("hex").slice(0, 40)}`).toEqual(viaConnect);
  }
  const missing = await grpcCall("GetMessage", new Uint8Array([0x0a, 0x08, ...Buffer.from("msg_nope")]), false);
  expect(missing.headers["grpc-status"]).toBe("5");
});
