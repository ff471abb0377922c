// One port for every protocol: cleartext HTTP/2 (gRPC, Connect, gRPC-Web) and HTTP/1.1 (Connect, gRPC-Web,
// curl, browsers). Node has no cleartext server that speaks both, so each connection is routed by its first
// bytes: the HTTP/2 client preface starts with "PRI ", no HTTP/1.1 request does.
import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from "node:http2";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";

export type DualHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

export interface Listener {
  port: number;
  /** Stops accepting, lets requests in flight finish for up to graceMs, then closes what is left. */
  close(graceMs: number): Promise<void>;
}

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n");

export function listen(handler: DualHandler, host: string, port: number): Promise<Listener> {
  const h1 = createHttp1Server(handler as (req: IncomingMessage, res: ServerResponse) => void);
  h1.keepAliveTimeout = 65_000;
  const h2 = createHttp2Server({}, handler as (req: Http2ServerRequest, res: Http2ServerResponse) => void);
  const sessions = new Set<Http2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  const sockets = new Set<Socket>();

  // No Nagle: small gRPC frames would otherwise wait for the peer's delayed ACK (tens of ms per call).
  const tcp: Server = createTcpServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const isH2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isH2 && n < PREFACE.length) return; // not enough bytes yet to tell
      socket.off("data", onData);
      socket.pause();
      socket.unshift(seen);
      // The HTTP/2 session reads the unshifted bytes itself and takes over the socket's handle;
      // resuming the JS stream here would race it for the data. HTTP/1.1 needs the stream flowing.
      if (isH2) {
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
    socket.on("error", () => socket.destroy());
  });

  return new Promise((resolveListen, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, host, () => {
      tcp.off("error", reject);
      const addr = tcp.address();
      resolveListen({
        port: typeof addr === "object" && addr ? addr.port : port,
        async close(graceMs) {
          const closed = new Promise<void>((r) => tcp.close(() => r()));
          for (const s of sessions) s.close();
          h1.closeIdleConnections();
          const timer = setTimeout(() => {
            for (const s of sockets) s.destroy();
          }, graceMs);
          const idle = setInterval(() => h1.closeIdleConnections(), 100);
          await closed;
          clearTimeout(timer);
          clearInterval(idle);
        },
      });
    });
  });
}
