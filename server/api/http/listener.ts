// One port for every protocol: cleartext HTTP/2 (gRPC, Connect, gRPC-Web) and HTTP/1.1 (Connect, gRPC-Web,
// curl, browsers). Node has no cleartext server that speaks both, so each connection is routed by its first
// bytes: the HTTP/2 client preface starts with "PRI ", no HTTP/1.1 request does.
//
// Whatever a peer sends, nothing here may throw into the event loop: every server, session, stream and socket
// has an error listener. And no peer holds a connection for ever: a connection must start its request within
// the headers timeout and deliver it within the request timeout, an idle one is closed, and connections over
// the cap are closed as they arrive.
import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from "node:http";
import {
  constants as h2c,
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type ServerHttp2Stream,
} from "node:http2";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { errorFields, type Logger } from "../../telemetry/log.js";

export type DualHandler = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

export interface Listener {
  port: number;
  /** Stops accepting, lets requests in flight finish for up to graceMs, then closes what is left. */
  close(graceMs: number): Promise<void>;
}

export interface ConnectionLimits {
  /** From a connection's start (or the end of its previous request) until a request's headers are in. */
  headersTimeoutMs: number;
  /** From a request's start until its whole body is in. Not the response: server streams run on. */
  requestTimeoutMs: number;
  /** A connection with no request in progress is closed after this long. */
  idleTimeoutMs: number;
  /** Connections over this many are closed as they arrive. */
  maxConnections: number;
  /** Streams open at once on one HTTP/2 connection (its SETTINGS_MAX_CONCURRENT_STREAMS). HTTP/1.1 has one. */
  maxStreamsPerConnection: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 65_000,
  maxConnections: 4096,
  maxStreamsPerConnection: 100,
};

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n");

/**
 * `exclusive`: bound by this process alone even in a cluster's worker, where a listener otherwise shares the
 * first process's socket for its host and port (port 0 included: every worker would get the same one).
 */
export function listen(handler: DualHandler, host: string, port: number, limits: ConnectionLimits, log: Logger, exclusive = false): Promise<Listener> {
  const h1 = createHttp1Server(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.idleTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, limits.headersTimeoutMs / 4)),
    },
    handler as (req: IncomingMessage, res: ServerResponse) => void,
  );
  h1.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    log.debug("http/1.1 client error", errorFields(err));
    if (socket.writable && err.code !== "ECONNRESET" && !(socket as { _httpMessage?: unknown })._httpMessage) {
      const status = err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    }
    socket.destroySoon();
  });

  // Advertised to the client, which queues what is over it (grpc-js, grpc-go and Node do). nghttp2 refuses a
  // stream over it with REFUSED_STREAM while the setting is unacknowledged, and ends the connection (GOAWAY)
  // of a client that acknowledged it and opens more anyway: either way only that client's own connection pays.
  const h2 = createHttp2Server({ settings: { maxConcurrentStreams: limits.maxStreamsPerConnection } }, handler as (req: Http2ServerRequest, res: Http2ServerResponse) => void);
  h2.on("sessionError", (err) => log.debug("http/2 session error", errorFields(err)));
  const sessions = new Set<Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.on("error", (err) => log.debug("http/2 session error", errorFields(err)));
    session.on("frameError", () => undefined);
    // No stream open: the session must start one within the headers timeout (first) or the idle timeout.
    let open = 0;
    let idle: NodeJS.Timeout | undefined;
    const arm = (ms: number, onExpiry: () => void) => {
      clearTimeout(idle);
      idle = setTimeout(onExpiry, ms).unref();
    };
    arm(limits.headersTimeoutMs, () => session.destroy());
    session.on("stream", (stream: ServerHttp2Stream) => {
      open++;
      clearTimeout(idle);
      stream.on("error", () => undefined);
      const receiving = setTimeout(() => {
        if (!stream.destroyed && !stream.state.remoteClose) stream.close(h2c.NGHTTP2_CANCEL);
      }, limits.requestTimeoutMs).unref();
      stream.once("close", () => {
        clearTimeout(receiving);
        if (--open === 0 && !session.closed && !session.destroyed) arm(limits.idleTimeoutMs, () => session.close());
      });
    });
    session.once("close", () => {
      clearTimeout(idle);
      sessions.delete(session);
    });
  });
  const sockets = new Set<Socket>();

  // No Nagle: small gRPC frames would otherwise wait for the peer's delayed ACK (tens of ms per call).
  const tcp: Server = createTcpServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    // Until it is routed, the connection's first bytes are its headers.
    socket.setTimeout(limits.headersTimeoutMs, () => socket.destroy());
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const isH2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isH2 && n < PREFACE.length) return; // not enough bytes yet to tell
      socket.off("data", onData);
      socket.setTimeout(0);
      socket.removeAllListeners("timeout");
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
  });
  tcp.maxConnections = limits.maxConnections;
  let warnedFull = false;
  tcp.on("drop", () => {
    if (warnedFull) return;
    warnedFull = true;
    setTimeout(() => (warnedFull = false), 10_000).unref();
    log.warn("connection limit reached: new connections are closed", { maxConnections: limits.maxConnections });
  });

  return new Promise((resolveListen, reject) => {
    tcp.once("error", reject);
    tcp.listen({ port, host, exclusive }, () => {
      tcp.off("error", reject);
      tcp.on("error", (err) => log.error("listener error", errorFields(err)));
      // The HTTP/1.1 server never listens itself; "listening" starts its header and request timeout checks.
      h1.emit("listening");
      const addr = tcp.address();
      resolveListen({
        port: typeof addr === "object" && addr ? addr.port : port,
        async close(graceMs) {
          const closed = new Promise<void>((r) => tcp.close(() => r()));
          for (const s of sessions) s.close();
          h1.close(); // also stops its timeout checks
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
