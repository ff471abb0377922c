// GET /metrics on the service port: the Prometheus text exposition, without a key (like health
// checks: what it tells is counts, never tenant data beyond the configured tenant names).
import type { ServerResponse } from "node:http";
import type { HookwireMetrics } from "../metrics.js";
import { answer, type PlainRoute } from "./plain-routes.js";

export const METRICS_PATH = "/metrics";

/** Takes /metrics and nothing else. */
export function metricsRoute(metrics: HookwireMetrics): PlainRoute {
  return (req, res, path) => {
    if (path !== METRICS_PATH) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      answer(req, res, 405, "method not allowed", { allow: "GET, HEAD" });
      return true;
    }
    const r = res as ServerResponse;
    metrics.text().then(
      (text) => {
        if (r.headersSent || r.destroyed) return;
        r.writeHead(200, { "content-type": metrics.contentType, "cache-control": "no-store" });
        r.end(req.method === "HEAD" ? "" : text);
      },
      () => answer(req, res, 500, "metrics could not be collected", { "cache-control": "no-store" }),
    );
    return true;
  };
}
