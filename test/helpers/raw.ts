// Raw clients for the shared port: bytes over TCP, and HTTP/2 requests with hand-made bodies, for requests the
// generated clients never send.
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import { connect, type Socket } from "node:net";

export interface RawResult {
  data: Buffer;
  /** The server closed (or reset) the connection before the wait ended. */
  closed: boolean;
  ms: number;
}

/** Writes `bytes`, then collects what comes back until the server closes or waitMs passes. */
export function rawExchange(port: number, bytes: Buffer | Buffer[], waitMs = 1000): Promise<RawResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
    socket.on("connect", () => {
      for (const b of Array.isArray(bytes) ? bytes : [bytes]) socket.write(b);
    });
  });
}

/** A connection kept open by the test, with a way to see when the server gave up on it. */
export interface HeldSocket {
  socket: Socket;
  closedAt: Promise<number>;
}

export function holdSocket(port: number, opening: Buffer | string = Buffer.alloc(0)): Promise<HeldSocket> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const closedAt = new Promise<number>((r) => socket.once("close", () => r(Date.now() - started)));
    socket.on("error", () => undefined);
    socket.resume(); // read (and drop) what the server sends, so its end of the connection is seen
    socket.once("connect", () => {
      if (opening.length) socket.write(opening);
      resolve({ socket, closedAt });
    });
    socket.once("error", reject);
  });
}

export interface H2Answer {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  data: Buffer;
  rstCode: number | undefined;
}

export function h2Session(port: number): ClientHttp2Session {
  const session = h2connect(`http://127.0.0.1:${port}`);
  session.on("error", () => undefined);
  return session;
}

/** One HTTP/2 request with the given body; resolves when the stream closes (cancelled after waitMs). */
export function h2Request(session: ClientHttp2Session, path: string, headers: Record<string, string>, body: Buffer, waitMs = 5000): Promise<H2Answer> {
  return new Promise((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    const timer = setTimeout(() => stream.close(), waitMs);
    const out: H2Answer = { headers: {}, trailers: {}, data: Buffer.alloc(0), rstCode: undefined };
    const chunks: Buffer[] = [];
    stream.on("response", (h) => (out.headers = h));
    stream.on("trailers", (t) => (out.trailers = t));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", () => undefined);
    stream.on("close", () => {
      clearTimeout(timer);
      out.data = Buffer.concat(chunks);
      out.rstCode = stream.rstCode;
      resolve(out);
    });
    stream.end(body);
  });
}

/** A gRPC length-prefixed message. */
export function envelope(message: Buffer, flags = 0, length = message.length): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(length, 1);
  return Buffer.concat([head, message]);
}

/** grpc-status of an answer, from its trailers or (trailers-only) its headers. */
export function grpcStatus(a: H2Answer): string | undefined {
  const v = a.trailers["grpc-status"] ?? a.headers["grpc-status"];
  return v === undefined ? undefined : String(v);
}

export function grpcMessage(a: H2Answer): string {
  return decodeURIComponent(String(a.trailers["grpc-message"] ?? a.headers["grpc-message"] ?? ""));
}
