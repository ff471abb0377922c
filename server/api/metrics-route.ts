// GET /metrics on the service port: the Prometheus text exposition, without a key (like health
// checks: what it tells is counts, never tenant data beyond the configured tenant names).
import type { ServerResponse } from "node:http";
import type { DualHandler } from "../listener.js";
import type { HookwireMetrics } from "../metrics.js";

export const METRICS_PATH = "/metrics";

/** Answers /metrics; every other path goes to `next` (404 when none). */
export function metricsRoute(metrics: HookwireMetrics, next?: DualHandler): DualHandler {
  return (req, res) => {
    const r = res as ServerResponse;
    if ((req.url ?? "").split("?", 1)[0] !== METRICS_PATH) {
      if (next) return next(req, res);
      return answer(r, 404, "text/plain; charset=utf-8", "not found\n");
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      r.setHeader("allow", "GET, HEAD");
      return answer(r, 405, "text/plain; charset=utf-8", "method not allowed\n");
    }
    metrics.text().then(
      (text) => answer(r, 200, metrics.contentType, req.method === "HEAD" ? "" : text),
      () => answer(r, 500, "text/plain; charset=utf-8", "metrics could not be collected\n"),
    );
  };
}

function answer(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  res.end(body);
}
