// One unary call run through the interceptors and its implementation, for the plain paths that answer
// without Connect's handlers (grpc-unary.ts, connect-unary.ts). Connect builds per call two web Headers
// copies, three abort controllers and, when it ends the call's signal without a reason, a DOMException:
// about a tenth of the server's CPU per call on this machine (bench/HISTORY.md). Here the signal and the
// headers are made only when something reads them; no implementation of ours reads them on the hot calls.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { create, isMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type HandlerContext, type Interceptor, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";

type UnaryImpl = (req: unknown, ctx: HandlerContext) => unknown;

export interface UnaryRoute {
  service: DescService;
  method: DescMethod;
  impl: UnaryImpl;
}

export type NodeReq = IncomingMessage | Http2ServerRequest;
export type NodeRes = ServerResponse | Http2ServerResponse;

export interface UnaryCallInit {
  route: UnaryRoute;
  req: NodeReq;
  res: NodeRes;
  url: string;
  protocolName: "grpc" | "connect";
  contextValues: ContextValues;
  interceptors: Interceptor[];
  responseHeader: Record<string, string>;
  responseTrailer?: Record<string, string>;
}

const ENDED = new ConnectError("the call ended", Code.Canceled);
const CLOSED = new ConnectError("the caller closed the call", Code.Canceled);

type LeanContext = HandlerContext & {
  /** Aborts the signal (if one was made) once the answer is decided. */
  end(): void;
  /** The response header and trailer as Node writes them. */
  written(): { header: Record<string, string>; trailer: Record<string, string> };
};

function leanContext(init: UnaryCallInit): LeanContext {
  let controller: AbortController | undefined;
  let requestHeader: Headers | undefined;
  let responseHeader: Headers | undefined;
  let responseTrailer: Headers | undefined;
  let ended = false;
  let onClose: (() => void) | undefined;
  const { route, res } = init;
  return {
    service: route.service,
    method: route.method,
    protocolName: init.protocolName,
    requestMethod: "POST",
    url: init.url,
    values: init.contextValues,
    // Methods and getters, not arrow functions: see readBody.
    timeoutMs() {
      return undefined; // the plain paths take no call with a deadline
    },
    get signal() {
      if (!controller) {
        const made = new AbortController();
        controller = made;
        if (ended) made.abort(ENDED);
        else res.once("close", (onClose = () => made.abort(CLOSED)));
      }
      return controller.signal;
    },
    get requestHeader() {
      return (requestHeader ??= webHeaders(init.req.headers));
    },
    get responseHeader() {
      return (responseHeader ??= new Headers(init.responseHeader));
    },
    get responseTrailer() {
      return (responseTrailer ??= new Headers(init.responseTrailer));
    },
    end() {
      ended = true;
      if (!controller) return;
      if (onClose) res.off("close", onClose);
      controller.abort(ENDED);
    },
    written() {
      return {
        header: responseHeader ? nodeHeaders(responseHeader) : { ...init.responseHeader },
        trailer: responseTrailer ? nodeHeaders(responseTrailer) : { ...init.responseTrailer },
      };
    },
  };
}

export interface UnaryAnswer {
  output: unknown;
  header: Record<string, string>;
  trailer: Record<string, string>;
}

/** A failed call: Connect's error, with the headers and trailers the call had set. */
export class UnaryFailure {
  constructor(
    readonly error: ConnectError,
    readonly header: Record<string, string>,
    readonly trailer: Record<string, string>,
  ) {}
}

/** Runs the call; resolves with the output message and what to write, or rejects with a UnaryFailure. */
export async function runUnary(init: UnaryCallInit, message: unknown): Promise<UnaryAnswer> {
  const { service, method, impl } = init.route;
  const ctx = leanContext(init);
  // The implementation as the chain's last step, an inline argument: a variable holding it would be
  // renamed per call under tsx (see readBody).
  const run = init.interceptors.reduceRight<(r: UnaryRequest) => Promise<UnaryResponse>>(
    (next, i) => i(next as never) as never,
    async (r: UnaryRequest): Promise<UnaryResponse> => {
      const out = await impl(r.message, ctx);
      const shaped = isMessage(out, method.output) ? out : create(method.output, out as never);
      return {
        stream: false,
        service,
        method: method as never,
        get header() {
          return ctx.responseHeader;
        },
        get trailer() {
          return ctx.responseTrailer;
        },
        message: shaped,
        contextValues: init.contextValues,
      } as UnaryResponse;
    },
  );
  const request = {
    stream: false,
    service,
    method: method as never,
    requestMethod: "POST",
    url: init.url,
    get signal() {
      return ctx.signal;
    },
    get header() {
      return ctx.requestHeader;
    },
    contextValues: init.contextValues,
    message,
  } as UnaryRequest;
  try {
    const answer = await run(request);
    return { output: answer.message, ...ctx.written() };
  } catch (err) {
    const { header, trailer } = ctx.written();
    throw new UnaryFailure(ConnectError.from(err), header, trailer);
  } finally {
    ctx.end();
  }
}

function nodeHeaders(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => (out[k] = v));
  return out;
}

function webHeaders(h: NodeReq["headers"]): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith(":") || v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.append(k, x);
    else out.set(k, v);
  }
  return out;
}
