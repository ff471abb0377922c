// What a request body can do before a handler runs: undecodable bytes answer INVALID_ARGUMENT, a missing key
// answers UNAUTHENTICATED without the body being read, and an upload over the limit answers
// RESOURCE_EXHAUSTED and is cut off (HTTP/1.1 connection closed, HTTP/2 stream reset).
import { create, toBinary } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TriggerRequestSchema } from "@hookwire/sdk/proto";
import { envelope, grpcMessage, grpcStatus, h2Request, h2Session } from "../helpers/raw.js";
import { bearer, KEYS, startServer, type RunningServer } from "../helpers/server.js";

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ env: { HOOKWIRE_MAX_PAYLOAD_BYTES: "1024" } });
});
afterAll(async () => {
  await server?.stop();
});

const SVC = "/hookwire.v1.WebhookService";
const GRPC = { "content-type": "application/grpc", te: "trailers" };
/** Sign's body field (bytes) announcing 5 bytes and carrying 2: premature end. */
const TRUNCATED = Buffer.from([0x0a, 0x05, 0x61, 0x62]);
/** Sign's secret field (string) holding bytes that are not UTF-8. */
const BAD_UTF8 = Buffer.from([0x12, 0x02, 0xff, 0xfe]);

function deepValue(depth: number): Value {
  let v = create(ValueSchema, { kind: { case: "stringValue", value: "bottom" } });
  for (let i = 0; i < depth; i++) v = create(ValueSchema, { kind: { case: "listValue", value: { values: [v] } } });
  return v;
}

async function grpcCall(path: string, body: Buffer, headers: Record<string, string> = bearer(KEYS.acme)) {
  const session = h2Session(server.port);
  try {
    return await h2Request(session, `${SVC}/${path}`, { ...GRPC, ...headers }, body);
  } finally {
    session.close();
  }
}

async function connectCall(path: string, contentType: string, body: Buffer, headers: Record<string, string> = bearer(KEYS.acme)) {
  const res = await fetch(`${server.baseUrl}${SVC}/${path}`, { method: "POST", headers: { "content-type": contentType, ...headers }, body });
  return { status: res.status, body: await res.text() };
}

it("undecodable protobuf, invalid UTF-8 and malformed JSON answer INVALID_ARGUMENT over gRPC and Connect, naming the request", async () => {
  for (const [body, reason] of [
    [TRUNCATED, /^request: not a valid protobuf message: premature EOF/],
    [BAD_UTF8, /^request: a string field holds invalid UTF-8/],
  ] as const) {
    const g = await grpcCall("Sign", envelope(body));
    expect([grpcStatus(g), grpcMessage(g)]).toEqual(["3", expect.stringMatching(reason)]);
    const c = await connectCall("Sign", "application/proto", body);
    expect(c.status).toBe(400);
    expect(JSON.parse(c.body)).toEqual({ code: "invalid_argument", message: expect.stringMatching(reason) });
  }
  // A payload nested deeper than the decoder goes.
  const deep = Buffer.from(toBinary(TriggerRequestSchema, create(TriggerRequestSchema, { event: "deep.one", payload: deepValue(120) })));
  const d = await grpcCall("Trigger", envelope(deep));
  expect([grpcStatus(d), grpcMessage(d)]).toEqual(["3", expect.stringMatching(/^request: .*recursion depth/)]);

  const json = await connectCall("Trigger", "application/json", Buffer.from('{"event":'));
  expect(JSON.parse(json.body)).toEqual({ code: "invalid_argument", message: expect.stringMatching(/^request: not a valid JSON message/) });
  const utf8 = await connectCall("Sign", "application/json", Buffer.from([0x7b, 0x22, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]));
  expect(JSON.parse(utf8.body)).toEqual({ code: "invalid_argument", message: "request: the JSON is not valid UTF-8" });
  // A compressed flag without an encoding is bad input too.
  const flagged = await grpcCall("Sign", envelope(TRUNCATED, 1));
  expect([grpcStatus(flagged), grpcMessage(flagged)]).toEqual(["3", expect.stringMatching(/^request: .*compressed/)]);
});

it("a call without a valid key answers UNAUTHENTICATED before its body is decoded, in every protocol", async () => {
  const g = await grpcCall("Sign", envelope(TRUNCATED), {});
  expect([grpcStatus(g), grpcMessage(g)]).toEqual(["16", expect.stringMatching(/authorization/)]);
  const unknown = await grpcCall("Sign", envelope(BAD_UTF8), bearer("not-a-key"));
  expect([grpcStatus(unknown), grpcMessage(unknown)]).toEqual(["16", "unknown API key"]);
  const c = await connectCall("Sign", "application/proto", TRUNCATED, {});
  expect(c.status).toBe(401);
  expect(JSON.parse(c.body).code).toBe("unauthenticated");
  const stream = await connectCall("WatchDeliveries", "application/connect+proto", envelope(TRUNCATED), bearer("not-a-key"));
  expect(stream.body).toContain('"code":"unauthenticated"');
  const web = await connectCall("Sign", "application/grpc-web+proto", envelope(TRUNCATED), {});
  expect(web.body).toMatch(/grpc-status: ?16/);
  // Health stays public.
  const health = await (async () => {
    const session = h2Session(server.port);
    const a = await h2Request(session, "/grpc.health.v1.Health/Check", GRPC, envelope(Buffer.alloc(0)));
    session.close();
    return a;
  })();
  expect(grpcStatus(health)).toBe("0");
});

interface Cutoff {
  answer: string;
  closed: boolean;
  sent: number;
}

/** An HTTP/1.1 upload that keeps sending chunks until the server closes the connection (or 4 s pass). */
function h1EndlessUpload(head: string): Promise<Cutoff> {
  return new Promise((resolve) => {
    const socket = tcpConnect(server.port, "127.0.0.1");
    const chunk = Buffer.concat([Buffer.from("4000\r\n"), Buffer.alloc(0x4000, 0x41), Buffer.from("\r\n")]);
    let answer = "";
    let sent = 0;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearInterval(pump);
      clearTimeout(timer);
      socket.destroy();
      resolve({ answer, closed, sent });
    };
    socket.on("data", (d: Buffer) => (answer += d.toString("latin1")));
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
    let pump: NodeJS.Timeout | undefined;
    // The body only after the head: chunks queued before the connection opened would go first.
    socket.on("connect", () => {
      socket.write(head);
      pump = setInterval(() => {
        if (!done && socket.writable && socket.writableLength < 1 << 20) {
          socket.write(chunk);
          sent += chunk.length;
        }
      }, 2);
    });
    const timer = setTimeout(() => finish(false), 4000);
  });
}

/** The same over HTTP/2: a gRPC stream whose body keeps coming until the server resets it (or 4 s pass). */
function h2EndlessUpload(headers: Record<string, string>, first: Buffer): Promise<Cutoff & { status: string | undefined; rstCode: number | undefined }> {
  return new Promise((resolve) => {
    const session = h2Session(server.port);
    const stream = session.request({ ":method": "POST", ":path": `${SVC}/Trigger`, ...GRPC, ...headers });
    let status: string | undefined;
    let sent = 0;
    let done = false;
    stream.on("response", (h) => h["grpc-status"] !== undefined && (status = String(h["grpc-status"])));
    stream.on("trailers", (t) => (status = String(t["grpc-status"])));
    stream.on("data", () => undefined);
    stream.on("error", () => undefined);
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearInterval(pump);
      clearTimeout(timer);
      const rstCode = stream.rstCode;
      session.destroy();
      resolve({ answer: "", closed, sent, status, rstCode });
    };
    stream.on("close", () => finish(true));
    stream.write(first);
    const pump = setInterval(() => {
      if (!done && !stream.destroyed && stream.writableLength < 1 << 20) {
        stream.write(Buffer.alloc(0x4000, 0x41));
        sent += 0x4000;
      }
    }, 2);
    const timer = setTimeout(() => finish(false), 4000);
  });
}

it("an upload over the size limit answers RESOURCE_EXHAUSTED and is cut off: HTTP/1.1 connection closed, HTTP/2 stream reset", async () => {
  const head = `POST ${SVC}/Trigger HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.acme}\r\nContent-Type: application/proto\r\nTransfer-Encoding: chunked\r\n\r\n`;
  const h1 = await h1EndlessUpload(head);
  expect(h1.answer).toMatch(/^HTTP\/1\.1 429/);
  expect(h1.answer).toContain('"code":"resource_exhausted"');
  expect(h1.closed).toBe(true);

  const h2 = await h2EndlessUpload(bearer(KEYS.acme), envelope(Buffer.alloc(0), 0, 50 * 1024 * 1024).subarray(0, 5));
  expect(h2.status).toBe("8");
  expect(h2.closed).toBe(true);
  expect(h2.rstCode).toBeDefined();
  expect(server.child.exitCode).toBeNull();
});

it("an unauthenticated upload is answered without being read: HTTP/1.1 connection closed, HTTP/2 stream reset", async () => {
  const head = `POST ${SVC}/Trigger HTTP/1.1\r\nHost: x\r\nContent-Type: application/proto\r\nTransfer-Encoding: chunked\r\n\r\n`;
  const h1 = await h1EndlessUpload(head);
  expect(h1.answer).toMatch(/^HTTP\/1\.1 401/);
  expect(h1.closed).toBe(true);

  const h2 = await h2EndlessUpload({}, envelope(Buffer.alloc(0), 0, 1000).subarray(0, 5));
  expect(h2.status).toBe("16");
  expect(h2.closed).toBe(true);
});
