// Whatever arrives on the shared port, the process stays up and keeps answering.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { envelope, grpcStatus, h2Request, h2Session, rawExchange } from "../helpers/raw.js";
import { bearer, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

const CHECK = "/grpc.health.v1.Health/Check";
const SIGN = "/hookwire.v1.WebhookService/Sign";

async function stillServing(): Promise<void> {
  expect(server.child.exitCode).toBeNull();
  expect(server.child.signalCode).toBeNull();
  const res = await grpcClient(server).sign({ body: new TextEncoder().encode("x"), secret: "alive-secret-123" }, { headers: bearer(KEYS.acme) });
  expect(res.signature).toMatch(/^sha256=/);
}

it("a request without a host is answered 400, over HTTP/1.0 and as an HTTP/0.9-style request line", async () => {
  const h10 = await rawExchange(server.port, Buffer.from(`POST ${CHECK} HTTP/1.0\r\nContent-Length: 0\r\n\r\n`));
  expect(h10.data.toString()).toMatch(/^HTTP\/1\.[01] 400/);
  const h09 = await rawExchange(server.port, Buffer.from(`POST ${CHECK}\r\n\r\n`));
  expect(h09.closed).toBe(true);
  await stillServing();
});

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const printable = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(Math.random() * 95))).join("");

/** Malformed HTTP/1.x: random request lines, bad and missing headers, lying lengths, broken chunking. */
function h1Garbage(): Buffer {
  const path = pick([CHECK, SIGN, "/", "/hookwire.v1.WebhookService/WatchDeliveries", `/${printable(5)}`]);
  const auth = `Authorization: Bearer ${KEYS.acme}\r\n`;
  const kinds: Array<() => string | Buffer> = [
    () => randomBytes(1 + Math.floor(Math.random() * 200)),
    () => `${printable(1 + Math.floor(Math.random() * 40))}\r\n\r\n`,
    () => `POST ${path}\r\n\r\n`,
    () => `POST ${path} HTTP/1.0\r\nHost:\r\n\r\n`,
    () => `POST ${path} HTTP/1.1\r\nHost: ${printable(8)}\r\n${printable(20)}\r\n\r\n`,
    () => `POST ${path} HTTP/1.1\r\nHost: [::1\r\nContent-Type: application/proto\r\nContent-Length: 0\r\n\r\n`,
    () => `POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/proto\r\nContent-Length: 50\r\n\r\n${printable(10)}`,
    () => `POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{"a":`,
    () => `POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/proto\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${printable(5)}`,
    () => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`,
    () => Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/grpc-web+proto\r\nContent-Length: 9\r\n\r\n`), envelope(randomBytes(4), pick([0, 1, 2, 0x80]), 1000)]),
    () => Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/connect+proto\r\nContent-Length: 10\r\n\r\n`), envelope(randomBytes(5), pick([0, 1, 2]))]),
    () => `GET ${path}?message=${printable(10)}&encoding=proto&base64=1 HTTP/1.1\r\nHost: x\r\n\r\n`,
    () => `${pick(["GET", "PUT", "OPTIONS", "PRI", "P"])} ${path} HTTP/${pick(["1.1", "2.0", "9.9", "x"])}\r\nHost: x\r\n\r\n`,
  ];
  const v = pick(kinds)();
  return typeof v === "string" ? Buffer.from(v, "latin1") : v;
}

/** Truncated and corrupted HTTP/2 prefaces and frames. */
function h2Garbage(): Buffer {
  const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
  const kinds: Array<() => Buffer> = [
    () => preface.subarray(0, 1 + Math.floor(Math.random() * (preface.length - 1))),
    () => Buffer.concat([preface.subarray(0, 18), randomBytes(30)]),
    () => Buffer.concat([preface, randomBytes(1 + Math.floor(Math.random() * 100))]),
    () => Buffer.concat([preface, settings, randomBytes(9 + Math.floor(Math.random() * 60))]),
    // A HEADERS frame with a garbage HPACK block, and one promising more bytes than it carries.
    () => Buffer.concat([preface, settings, Buffer.from([0, 0, 8, 1, 5, 0, 0, 0, 1]), randomBytes(8)]),
    () => Buffer.concat([preface, settings, Buffer.from([0, 0x40, 0, 1, 4, 0, 0, 0, 1]), randomBytes(20)]),
    // DATA on a stream that was never opened, and a frame of an unknown type.
    () => Buffer.concat([preface, settings, Buffer.from([0, 0, 4, 0, 1, 0, 0, 0, 3]), randomBytes(4)]),
    () => Buffer.concat([preface, settings, Buffer.from([0, 0, 2, 0xfe, 0, 0, 0, 0, 0]), randomBytes(2)]),
  ];
  return pick(kinds)();
}

/** Bad gRPC over real HTTP/2 streams: lying length prefixes, compressed flags without an encoding, bad headers. */
async function grpcGarbage(count: number): Promise<void> {
  const session = h2Session(server.port);
  const bodies: Array<() => [Record<string, string>, Buffer]> = [
    () => [{}, envelope(randomBytes(4), 0, 100)],
    () => [{}, envelope(randomBytes(8), 1)],
    () => [{ "grpc-encoding": "gzip" }, envelope(randomBytes(8), 1)],
    () => [{ "grpc-encoding": printable(6) }, envelope(randomBytes(8), 1)],
    () => [{}, envelope(randomBytes(20))],
    () => [{}, randomBytes(3)],
    () => [{ "grpc-timeout": pick(["99999999999S", "-1m", "1x", ""]) }, envelope(Buffer.alloc(0))],
    () => [{ "content-type": pick(["application/grpc+json", "application/grpc-web-text", "text/plain", "application/grpc;x"]) }, envelope(randomBytes(6))],
    () => [{}, Buffer.concat([envelope(Buffer.alloc(0)), envelope(Buffer.alloc(0)), envelope(randomBytes(2), 0, 7)])],
  ];
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const [extra, body] = pick(bodies)();
    const path = pick([CHECK, SIGN, "/hookwire.v1.WebhookService/Trigger", "/hookwire.v1.WebhookService/WatchDeliveries"]);
    // A well-formed WatchDeliveries would run on: cancelled after a moment.
    calls.push(h2Request(session, path, { "content-type": "application/grpc", te: "trailers", ...bearer(KEYS.acme), ...extra }, body, 1000));
  }
  await Promise.all(calls);
  session.close();
}

it("thousands of malformed requests leave the server up and answering", async () => {
  const total = 3000;
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      const r = Math.random();
      await rawExchange(server.port, r < 0.55 ? h1Garbage() : h2Garbage(), 200);
    }
  };
  const started = Date.now();
  const phases: Record<string, number> = {};
  const timed = async (name: string, p: Promise<unknown>) => {
    await p;
    phases[name] = Date.now() - started;
  };
  await Promise.all([timed("raw", Promise.all(Array.from({ length: 100 }, worker))), timed("grpc", Promise.all([grpcGarbage(300), grpcGarbage(300)]))]);
  console.log("malformed requests done", phases);
  expect(Date.now() - started).toBeLessThan(25_000);
  await stillServing();
  // A normal gRPC call on a raw stream after all that: the health check answers SERVING.
  const session = h2Session(server.port);
  const ok = await h2Request(session, CHECK, { "content-type": "application/grpc", te: "trailers" }, envelope(Buffer.alloc(0)));
  session.close();
  expect(grpcStatus(ok)).toBe("0");
  expect(server.output()).not.toMatch(/uncaught|unhandled/i);
}, 30_000);
