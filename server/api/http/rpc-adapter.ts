// The RPC front door: Connect's router behind our own Node adapter (in place of connectNodeAdapter), so that
// - nothing a request does can throw into the event loop (connectNodeAdapter throws synchronously, e.g. on a
//   request without Host, and that ended the process);
// - the API key is checked before the body is read (a portal session's token after its store read, the body
//   waiting unread), and an oversized or undecodable body is refused as it arrives (see request-body.ts);
// - a body that will not be read to its end ends its HTTP/1.1 connection or resets its HTTP/2 stream,
//   instead of being drained for as long as the caller keeps sending;
// - streams without a key are bounded in number and lifetime (public-streams.ts);
// - a caller that goes away mid-call is a cancelled call (logged at debug, counted CANCELLED), not an internal error;
// - no RPC answer is cached by anything between the caller and us (cache-control: no-store): answers hold
//   tenants' data, and the same URL (a POST, or a Connect GET) answers differently each time.
import type { IncomingMessage, ServerResponse } from "node:http";
import { constants as h2, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import {
  Code,
  ConnectError,
  createConnectRouter,
  createContextValues,
  type ConnectRouter,
  type ContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { DescService } from "@bufbuild/protobuf";
import type { DualHandler } from "./listener.js";
import { errorFields, type Logger } from "../../telemetry/log.js";
import { callerKey, streamReadyKey, type Caller } from "../context.js";
import type { Authenticate } from "./auth.js";
import { bodyShape, checkedBody } from "./request-body.js";
import { answerPlainGrpc, plainGrpcUnary } from "./grpc-unary.js";
import { answerPlainConnect, plainConnectUnary } from "./connect-unary.js";
import { bodyAfter, readBody, type ReadBody } from "./read-body.js";
import type { UnaryRoute } from "./unary-call.js";
import type { HookwireMetrics } from "../../telemetry/metrics.js";
import type { PublicStreams } from "./public-streams.js";

export interface RpcAdapterOptions {
  /** The largest request message, in bytes (after decompression). */
  readMaxBytes: number;
  interceptors: Interceptor[];
  routes(router: ConnectRouter): void;
  authenticate: Authenticate;
  /** Services callable without a key (health, reflection); read at each request. */
  publicServices: ReadonlySet<string>;
  log: Logger;
  /** Paths that are not RPCs; 404 when absent. */
  fallback?: DualHandler;
  /** Counts calls refused here, before any interceptor runs (the interceptors count the rest). */
  metrics?: Pick<HookwireMetrics, "rpc"> | undefined;
  /** Bounds the streaming methods of the public services; unbounded when absent. */
  publicStreams?: PublicStreams | undefined;
}

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

const noop = () => undefined;

export function rpcAdapter(opts: RpcAdapterOptions): DualHandler {
  const compressions = [compressionGzip, compressionBrotli];
  const router = createConnectRouter({ readMaxBytes: opts.readMaxBytes, interceptors: opts.interceptors, acceptCompression: compressions });
  // The unary methods' implementations, for plain gRPC calls answered without Connect's gRPC pipeline.
  const unary = new Map<string, UnaryRoute>();
  const recording = new Proxy(router, {
    get(target, prop, receiver) {
      if (prop !== "service") return Reflect.get(target, prop, receiver) as unknown;
      return (service: DescService, impl: Record<string, unknown>, options?: unknown) => {
        for (const method of service.methods) {
          const fn = impl[method.localName];
          if (method.methodKind === "unary" && typeof fn === "function") {
            unary.set(`/${service.typeName}/${method.name}`, { service, method, impl: fn.bind(impl) as UnaryRoute["impl"] });
          }
        }
        return target.service(service as never, impl as never, options as never);
      };
    },
  });
  opts.routes(recording);
  const paths = new Map<string, UniversalHandler>();
  for (const h of router.handlers) paths.set(h.requestPath, h);
  const fallback = opts.fallback ?? ((_req: Req, res: Res) => plainAnswer(res, 404, "not found"));
  const { log } = opts;

  function serve(req: Req, res: Res): void {
    const path = (req.url ?? "").split("?", 1)[0] ?? "";
    const uHandler = paths.get(path);
    if (!uHandler) return fallback(req, res);
    // Merged into whatever head the call writes later (every path uses writeHead with its own headers).
    res.setHeader("cache-control", "no-store");
    const authority = "authority" in req ? req.authority : req.headers.host;
    if (!authority) return plainAnswer(res, 400, "the request names no host (Host or :authority header)");
    const started = opts.metrics ? performance.now() : 0;
    const procedure = `${uHandler.service.typeName}/${uHandler.method.name}`;
    const contextValues = createContextValues();
    if (uHandler.method.methodKind === "server_streaming") contextValues.set(streamReadyKey, (header) => sendHeadersNow(res, header));
    let refusal: unknown;
    let lifetime: AbortSignal | undefined;
    let lookup: Promise<Caller> | undefined;
    if (!opts.publicServices.has(uHandler.service.typeName)) {
      try {
        const caller = opts.authenticate(req.headers.authorization);
        if (caller instanceof Promise) lookup = caller;
        else contextValues.set(callerKey, caller);
      } catch (err) {
        refusal = err;
      }
    } else if (uHandler.method.methodKind !== "unary" && opts.publicStreams) {
      try {
        const pass = opts.publicStreams.admit(() => closeStream(req, res));
        res.once("close", pass.release);
        lifetime = pass.signal;
      } catch (err) {
        refusal = err;
      }
    }
    stopUnreadBodyWhenDone(req, res);
    const call: ConnectCall = { req, res, uHandler, contextValues, refusal, procedure, started, lifetime };
    if (!lookup) return dispatch(call, path, authority);
    // A portal session's token: the call goes on once the store has answered, its body unread meanwhile.
    void lookup
      .then(
        (caller) => void contextValues.set(callerKey, caller),
        (err: unknown) => void (call.refusal = err),
      )
      .then(() => {
        try {
          dispatch(call, path, authority);
        } catch (err) {
          refuseRequest(req, res, err);
        }
      });
  }

  /** The call, its caller known (or its refusal decided): the plain unary path when it may take it, else Connect's. */
  function dispatch(call: ConnectCall, path: string, authority: string): void {
    const { req, res, uHandler, procedure, started } = call;
    const route = unary.get(path);
    const plain = route && !call.refusal && !declaredTooLarge(req, opts.readMaxBytes) ? plainCall(route, req, res, authority, call.contextValues) : undefined;
    if (!plain) return void viaConnect(call);
    // Read first: a call that is not the plain case goes on to Connect with what was read, then the rest.
    readBody(req, opts.readMaxBytes + 5)
      .then(async (read) => ((await plain(read)) ? undefined : viaConnect(call, read)))
      .catch((reason: unknown) => {
        log.debug("rpc request failed", { procedure, ...errorFields(reason) });
        // The plain path reads before any interceptor runs: a caller that left is counted here.
        if (callerLeft(req)) opts.metrics?.rpc(uHandler.method, Code.Canceled, started);
        abandon(req, res);
      });
  }

  /** Whatever a request can make throw before Connect runs (a malformed authority, …) is its fault. */
  function refuseRequest(req: Req, res: Res, err: unknown): void {
    log.debug("request refused", { url: String(req.url).slice(0, 200), ...errorFields(err) });
    if (res.headersSent) abandon(req, res);
    else plainAnswer(res, 400, "bad request");
  }

  /** The call through Connect's handler, the body checked at the door; `read` is what the plain path read of it. */
  function viaConnect(call: ConnectCall, read?: ReadBody): Promise<void> {
    const { req, res, uHandler, contextValues, refusal, procedure, started, lifetime } = call;
    const uReq = universalRequestFromNodeRequest(req, res, undefined, contextValues);
    const raw = untilCallerLeft(read ? bodyAfter(read, req) : (uReq.body as AsyncIterable<Uint8Array>), req);
    const shape = bodyShape(uReq.method, (name) => uReq.header.get(name) ?? undefined);
    const contentLength = Number(uReq.header.get("content-length") ?? Number.NaN);
    const body = refusal
      ? refused(refusal)
      : shape
        ? checkedBody(raw, {
            shape,
            input: uHandler.method.input,
            readMaxBytes: opts.readMaxBytes,
            compressions,
            contentLength: Number.isSafeInteger(contentLength) ? contentLength : undefined,
          })
        : raw;
    // A streaming method reads its body inside the interceptors, which count its failures; counting them here too
    // would count the call twice.
    const onRefused = opts.metrics && uHandler.method.methodKind === "unary" ? (code: Code) => opts.metrics!.rpc(uHandler.method, code, started) : undefined;
    const signal = lifetime ? AbortSignal.any([uReq.signal, lifetime]) : uReq.signal;
    return uHandler({ ...uReq, signal, body: reported(body, log, procedure, onRefused) })
      .then((uRes) => universalResponseToNodeResponse(uRes, res.headersSent ? headersAlreadySent(res) : res))
      .catch((reason: unknown) => {
        // Writing to a caller that has gone fails; that is the caller's doing, not ours.
        const quiet = ConnectError.from(reason).code === Code.Aborted || callerLeft(req);
        (quiet ? log.debug : log.warn)("rpc response failed", { procedure, ...errorFields(reason) });
        abandon(req, res);
      });
  }

  /** The plain path for this call, if it may take one (grpc-unary.ts, connect-unary.ts). */
  function plainCall(route: UnaryRoute, req: Req, res: Res, authority: string, contextValues: ContextValues): ((read: ReadBody) => Promise<boolean>) | undefined {
    // Each call's object written out whole: a spread followed by new keys is slow on V8 (see heldBy() in store/ferret/queue.ts).
    const url = `http://${authority}${req.url ?? ""}`;
    const { interceptors, readMaxBytes } = opts;
    if ("stream" in req && plainGrpcUnary(req)) {
      return (read) => answerPlainGrpc({ route, url, contextValues, interceptors, readMaxBytes, req, res: res as Http2ServerResponse }, read);
    }
    const connect = plainConnectUnary(req);
    if (connect) return (read) => answerPlainConnect({ route, url, contextValues, interceptors, readMaxBytes, req, res, json: connect.json, compressions }, read);
    return undefined;
  }

  return (req, res) => {
    // Connect removes its own error listeners once a request closes; a late error must not be unhandled.
    req.on("error", noop);
    (res as ServerResponse).on("error", noop);
    try {
      serve(req, res);
    } catch (err) {
      refuseRequest(req, res, err);
    }
  };
}

/** What a call taken through Connect's handler needs; one object, not a closure per call (see readBody). */
interface ConnectCall {
  req: Req;
  res: Res;
  uHandler: UniversalHandler;
  contextValues: ContextValues;
  refusal: unknown;
  procedure: string;
  started: number;
  /** A public stream's lifetime (public-streams.ts). */
  lifetime: AbortSignal | undefined;
}

/** A body whose declared length is over the limit is refused by checkedBody before it is read. */
function declaredTooLarge(req: Req, readMaxBytes: number): boolean {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  return Number.isSafeInteger(declared) && declared > readMaxBytes;
}

/** Connect's handlers hold a stream's response headers until its first message, which for a watch may be long
 * off; a handler that is listening has them sent at once (an OK stream answers 200 in every protocol). */
function sendHeadersNow(res: Res, header: Headers): void {
  if (res.headersSent || res.writableEnded) return;
  const r = res as ServerResponse;
  r.writeHead(200, Object.fromEntries(header));
  r.flushHeaders();
}

/** The response for Connect's Node glue once sendHeadersNow has sent the headers: its own writeHead is then a
 * no-op (the headers it would write are those already sent; Node would throw on a second writeHead). */
function headersAlreadySent(res: Res): Res {
  return new Proxy(res, {
    get(target, prop) {
      if (prop === "writeHead") return () => target;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const CALLER_LEFT = "the caller closed the call";

/** Whether the caller went away before the call was over: it reset its HTTP/2 stream (CANCEL, as gRPC clients
 * cancel; also how Node closes the streams of a connection that dropped) or dropped its HTTP/1.1 connection. The
 * door's own request timeout also cancels a stream whose body is late: that caller has left in all but name. */
function callerLeft(req: Req): boolean {
  if ("stream" in req) return req.stream.rstCode === h2.NGHTTP2_CANCEL || Boolean(req.stream.session?.destroyed);
  return Boolean(req.socket?.destroyed) || (req.destroyed && !req.complete);
}

/** The request body, as CANCELLED once the caller has left: whatever reading it then raised (Node's "Premature
 * close" or "aborted", Connect's missing or truncated message) says nothing about the call but that. */
async function* untilCallerLeft(body: AsyncIterable<Uint8Array>, req: Req): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (err) {
    if (callerLeft(req)) throw new ConnectError(CALLER_LEFT, Code.Canceled, undefined, undefined, err);
    throw err;
  }
  // A reset stream's body may simply end (Node's compat layer). (Node's own client, cancelling mid-request, sends
  // END_STREAM before its reset: that request reads as complete, and is answered as what it is, truncated.)
  if (callerLeft(req)) throw new ConnectError(CALLER_LEFT, Code.Canceled);
}

async function* refused(err: unknown): AsyncGenerator<Uint8Array> {
  throw err;
}

/** Requests refused at the door never reach the interceptors: log (and count) them as the interceptors do. */
async function* reported(body: AsyncIterable<Uint8Array>, log: Logger, procedure: string, onRefused: ((code: Code) => void) | undefined): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (err) {
    if (err instanceof ConnectError) {
      log.debug("rpc failed", { procedure, code: Code[err.code], message: err.rawMessage });
      onRefused?.(err.code);
    }
    throw err;
  }
}

function plainAnswer(res: Res, status: number, text: string): void {
  if (res.headersSent) return;
  const r = res as ServerResponse;
  r.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "stream" in res ? undefined : "close" });
  r.end(text + "\n");
}

/** True when the caller has sent its whole body (read or not). */
function requestEnded(req: Req): boolean {
  if ("stream" in req) {
    const s = req.stream;
    return s.destroyed || s.closed || Boolean(s.state.remoteClose);
  }
  return req.complete;
}

/** How long an HTTP/1.1 connection whose body is left unread stays open after its answer, so that the answer is
 * read before the close (closing with unread data in the socket makes the kernel send a reset instead). */
const LINGER_MS = 1000;

function stopUnreadBodyWhenDone(req: Req, res: Res): void {
  if ("stream" in req) {
    // Http2ServerResponse says "finish" only once the stream has closed, so this watches the stream itself: its
    // trailers are sent in the compat layer's "wantTrailers" listener; the reset must come after them.
    req.stream.once("wantTrailers", () => setImmediate(resetIfUnread, req));
    return;
  }
  // Node detaches the socket from the request once the answer is out.
  const socket = req.socket;
  (res as ServerResponse).once("finish", () => {
    if (req.complete || socket.destroyed) return;
    // Not read on: the socket stops being read once the request's buffer is full. The answer goes out
    // with a FIN, and the connection is dropped after a short linger.
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}

function resetIfUnread(req: Http2ServerRequest): void {
  if (!requestEnded(req)) req.stream.close(h2.NGHTTP2_NO_ERROR);
}

/** Ends a call whose stream outlived its welcome (a public stream past its lifetime and grace). */
function closeStream(req: Req, res: Res): void {
  if ("stream" in req) {
    if (!req.stream.destroyed) req.stream.close(h2.NGHTTP2_CANCEL);
  } else {
    (res as ServerResponse).destroy();
  }
}

function abandon(req: Req, res: Res): void {
  if ("stream" in req) {
    if (!req.stream.destroyed) req.stream.close(h2.NGHTTP2_INTERNAL_ERROR);
  } else {
    (res as ServerResponse).destroy();
    req.socket?.destroy();
  }
}
