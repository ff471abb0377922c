// Connect-protocol unary POSTs (JSON or binary, HTTP/1.1 or HTTP/2) answered without Connect's handler:
// the message is decoded once (Connect's path decoded it in request-body.ts, then again itself), and the
// call runs through unary-call.ts. The answer is Connect's own: its content types, its error JSON and
// HTTP status (from @connectrpc/connect/protocol-connect), trailers as `trailer-` headers, and the response
// compressed as Connect would. Anything else (a compressed request, a deadline, GET, a body that does not
// decode or is over the limit) goes on to Connect with the bytes read, so its answers stay Connect's.
import type { ServerResponse } from "node:http";
import { toBinary, toJsonString } from "@bufbuild/protobuf";
import { compressionNegotiate, type Compression } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import type { ContextValues, Interceptor } from "@connectrpc/connect";
import { joined, type ReadBody } from "./read-body.js";
import { parseRequestMessage } from "./request-body.js";
import { runUnary, UnaryFailure, type NodeReq, type NodeRes, type UnaryRoute } from "./unary-call.js";

const UNARY = /^application\/(?:(json)(?:; ?charset=utf-?8)?|proto)$/i;
/** Connect's default: smaller answers are sent uncompressed. */
const COMPRESS_MIN_BYTES = 1024;

/** Whether the request may take the plain path: JSON or binary, uncompressed, no deadline. Undefined if not. */
export function plainConnectUnary(req: NodeReq): { json: boolean } | undefined {
  if (req.method !== "POST") return undefined;
  const ct = req.headers["content-type"];
  const m = typeof ct === "string" ? UNARY.exec(ct) : null;
  if (!m) return undefined;
  const encoding = req.headers["content-encoding"];
  if ((encoding !== undefined && encoding !== "identity") || req.headers["connect-timeout-ms"] !== undefined) return undefined;
  return { json: m[1] !== undefined };
}

export interface PlainConnectCall {
  route: UnaryRoute;
  req: NodeReq;
  res: NodeRes;
  url: string;
  json: boolean;
  contextValues: ContextValues;
  interceptors: Interceptor[];
  readMaxBytes: number;
  compressions: Compression[];
}

/** Answers the call and resolves true when its body decodes, else resolves false (Connect answers it). */
export async function answerPlainConnect(call: PlainConnectCall, body: ReadBody): Promise<boolean> {
  if (!body.complete) return false;
  const bytes = joined(body.chunks);
  if (bytes.length > call.readMaxBytes) return false;
  const { method } = call.route;
  let message;
  try {
    message = parseRequestMessage(method.input, bytes, call.json);
  } catch {
    return false;
  }
  const contentType = call.json ? "application/json" : "application/proto";
  const compression = compressionNegotiate(call.compressions, null, headerValue(call.req, "accept-encoding"), "Accept-Encoding");
  let status = 200;
  let header: Record<string, string>;
  let payload: Uint8Array;
  try {
    const { route, req, res, url, contextValues, interceptors } = call;
    const answer = await runUnary({ route, req, res, url, contextValues, interceptors, protocolName: "connect", responseHeader: { "content-type": contentType } }, message);
    payload = call.json ? Buffer.from(toJsonString(method.output, answer.output as never)) : toBinary(method.output, answer.output as never);
    header = withTrailers(answer.header, answer.trailer);
  } catch (err) {
    if (!(err instanceof UnaryFailure)) throw err;
    const { error } = err;
    status = codeToHttpStatus(error.code);
    header = { ...err.header, "content-type": "application/json" };
    error.metadata.forEach((v, k) => (header[k] = v));
    header = withTrailers(header, err.trailer);
    payload = errorToJsonBytes(error, undefined);
  }
  if (compression.response && payload.byteLength >= COMPRESS_MIN_BYTES) {
    payload = await compression.response.compress(payload);
    header["content-encoding"] = compression.response.name;
  }
  header["content-length"] = String(payload.byteLength);
  const res = call.res as ServerResponse;
  res.writeHead(status, header);
  res.end(payload);
  return true;
}

/** Connect unary sends trailers as headers prefixed `trailer-` (its trailerMux). */
function withTrailers(header: Record<string, string>, trailer: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(trailer)) header[`trailer-${k}`] = v;
  return header;
}

function headerValue(req: NodeReq, name: string): string | null {
  const v = req.headers[name];
  return typeof v === "string" ? v : Array.isArray(v) ? v.join(", ") : null;
}
