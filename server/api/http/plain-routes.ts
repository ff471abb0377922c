// The paths on the service port that are not RPCs (the console; /metrics and the like belong here too): the
// RPC adapter hands them over as its fallback, and the first route that takes a request answers it.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

export type Req = IncomingMessage | Http2ServerRequest;
export type Res = ServerResponse | Http2ServerResponse;
/** Answers the request and says true, or says false and leaves it alone. `path` is the URL without its query. */
export type PlainRoute = (req: Req, res: Res, path: string) => boolean;

/** One handler for every plain route; 404 when none takes the request. */
export function plainRoutes(...routes: PlainRoute[]) {
  return (req: Req, res: Res): void => {
    const path = (req.url ?? "").split("?", 1)[0] ?? "";
    for (const route of routes) if (route(req, res, path)) return;
    answer(req, res, 404, "not found");
  };
}

/** A short plain-text answer. */
export function answer(req: Req, res: Res, status: number, text: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = { ...extra, "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" };
  // A body we will not read ends its HTTP/1.1 connection rather than being drained (as rpc-adapter.ts does).
  if (!("stream" in req) && req.method !== "GET" && req.method !== "HEAD") headers.connection = "close";
  const r = res as ServerResponse;
  r.writeHead(status, headers);
  r.end(text + "\n");
}
