// gRPC unary calls answered without Connect's gRPC pipeline. Connect runs a unary gRPC call through
// its streaming machinery (async iterables, linked abort controllers, a DOMException at the end of
// every call), at about half the rate of the same call in its Connect protocol (bench/HISTORY.md).
// The plain case is answered here: one uncompressed binary message, no deadline header. Everything
// else, and any message that does not decode, goes on to Connect with the bytes read so far, so its
// answers (and the front door's checks in request-body.ts) stay the ones callers get.
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { toBinary } from "@bufbuild/protobuf";
import type { ContextValues, Interceptor } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { joined, type ReadBody } from "./read-body.js";
import { parseRequestMessage } from "./request-body.js";
import { runUnary, UnaryFailure, type UnaryRoute } from "./unary-call.js";

const GRPC_PROTO = /^application\/grpc(\+proto)?$/i;

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
  contextValues: ContextValues;
  interceptors: Interceptor[];
  readMaxBytes: number;
}

/** Answers the call and resolves true when its body is the plain case, else resolves false (Connect answers it). */
export async function answerPlainGrpc(call: PlainCall, body: ReadBody): Promise<boolean> {
  if (!body.complete) return false;
  const bytes = joined(body.chunks);
  if (bytes.length < 5 || bytes[0] !== 0) return false;
  const length = bytes.readUInt32BE(1);
  if (length !== bytes.length - 5 || length > call.readMaxBytes) return false;
  const { method } = call.route;
  let message;
  try {
    message = parseRequestMessage(method.input, bytes.subarray(5), false);
  } catch {
    return false;
  }
  const { route, req, res, url, contextValues, interceptors } = call;
  const init = { route, req, res, url, contextValues, interceptors, protocolName: "grpc" as const, responseHeader: { "content-type": "application/grpc+proto" }, responseTrailer: { "grpc-status": "0" } };
  try {
    const answer = await runUnary(init, message);
    const payload = toBinary(method.output, answer.output as never);
    const frame = Buffer.allocUnsafe(5 + payload.length);
    frame[0] = 0;
    frame.writeUInt32BE(payload.length, 1);
    frame.set(payload, 5);
    res.writeHead(200, answer.header);
    res.addTrailers(answer.trailer);
    res.end(frame);
  } catch (err) {
    if (!(err instanceof UnaryFailure)) throw err;
    // Connect's own trailers for the error (its metadata, details); grpc-message.ts re-encodes the message.
    const trailer: Record<string, string> = {};
    setTrailerStatus(new Headers(err.trailer), err.error).forEach((v, k) => (trailer[k] = v));
    if (!res.headersSent) res.writeHead(200, err.header);
    res.addTrailers(trailer);
    res.end();
  }
  return true;
}
