// gRPC unary calls answered without Connect's gRPC pipeline. Connect runs a unary gRPC call through
// its streaming machinery (async iterables, linked abort controllers, a DOMException at the end of
// every call), at about half the rate of the same call in its Connect protocol (bench/README.md).
// The plain case is answered here: one uncompressed binary message, no deadline header. Everything
// else, and any message that does not decode, goes on to Connect with the bytes read so far, so its
// answers (and the front door's checks in request-body.ts) stay the ones callers get.
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { create, fromBinary, isMessage, toBinary, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createHandlerContext, type ContextValues, type HandlerContext, type Interceptor, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";
import { encodeGrpcMessage } from "../grpc-message.js";

type UnaryImpl = (req: unknown, ctx: HandlerContext) => unknown;

export interface UnaryRoute {
  service: DescService;
  method: DescMethod;
  impl: UnaryImpl;
}

const GRPC_PROTO = /^application\/grpc(\+proto)?$/i;
const ENDED = new ConnectError("the call ended", Code.Canceled);

/** Whether this request may take the plain path (it still may not, once its body is read). */
export function plainGrpcUnary(req: { headers: Record<string, string | string[] | undefined> }): boolean {
  const ct = req.headers["content-type"];
  const encoding = req.headers["grpc-encoding"];
  return typeof ct === "string" && GRPC_PROTO.test(ct) && (encoding === undefined || encoding === "identity") && req.headers["grpc-timeout"] === undefined;
}

export interface PlainCall {
  route: UnaryRoute;
  req: Http2ServerRequest;
  res: Http2ServerResponse;
  url: string;
  header: Headers;
  signal: AbortSignal;
  contextValues: ContextValues;
  interceptors: Interceptor[];
  readMaxBytes: number;
}

/**
 * Reads the body; answers the call and resolves true when it is the plain case, else resolves false
 * with the chunks read (the caller hands them, then the rest, to Connect).
 */
export async function answerPlainUnary(call: PlainCall, body: AsyncIterator<Uint8Array>, read: Uint8Array[]): Promise<boolean> {
  let total = 0;
  for (;;) {
    const next = await body.next();
    if (next.done) break;
    read.push(next.value);
    total += next.value.length;
    if (total > call.readMaxBytes + 5) return false;
  }
  const bytes = read.length === 1 ? read[0]! : Buffer.concat(read);
  if (bytes.length < 5 || bytes[0] !== 0) return false;
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
  if (length !== bytes.length - 5 || length > call.readMaxBytes) return false;
  const { service, method, impl } = call.route;
  let message;
  try {
    message = fromBinary(method.input, bytes.subarray(5));
  } catch {
    return false;
  }
  const ctx = createHandlerContext({
    service,
    method,
    protocolName: "grpc",
    requestMethod: "POST",
    url: call.url,
    requestSignal: call.signal,
    requestHeader: call.header,
    responseHeader: { "content-type": "application/grpc+proto" },
    responseTrailer: { "grpc-status": "0" },
    contextValues: call.contextValues,
  });
  const last = async (r: UnaryRequest): Promise<UnaryResponse> => {
    const out = await impl(r.message, ctx);
    const shaped = isMessage(out, method.output) ? out : create(method.output, out as never);
    return { stream: false, service, method: method as never, header: ctx.responseHeader, trailer: ctx.responseTrailer, message: shaped, contextValues: call.contextValues } as UnaryResponse;
  };
  const run = call.interceptors.reduceRight<(r: UnaryRequest) => Promise<UnaryResponse>>((next, i) => i(next as never) as never, last);
  const { res } = call;
  try {
    const answer = await run({ stream: false, service, method: method as never, requestMethod: "POST", url: call.url, signal: ctx.signal, header: call.header, contextValues: call.contextValues, message } as UnaryRequest);
    const payload = toBinary(method.output, answer.message as never);
    const frame = Buffer.allocUnsafe(5 + payload.length);
    frame[0] = 0;
    frame.writeUInt32BE(payload.length, 1);
    frame.set(payload, 5);
    res.writeHead(200, nodeHeaders(answer.header));
    res.addTrailers(nodeHeaders(answer.trailer));
    res.end(frame);
  } catch (err) {
    const ce = ConnectError.from(err);
    if (!res.headersSent) res.writeHead(200, nodeHeaders(ctx.responseHeader));
    res.addTrailers({ ...nodeHeaders(ctx.responseTrailer), "grpc-status": String(ce.code), "grpc-message": encodeGrpcMessage(ce.rawMessage) });
    res.end();
  } finally {
    ctx.abort(ENDED);
  }
  return true;
}

function nodeHeaders(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => (out[k] = v));
  return out;
}
