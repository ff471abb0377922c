// GET /metrics on the service port: the Prometheus text exposition. What it tells is counts, but per tenant by
// name, so it can be closed with a scraper's own token (HOOKWIRE_METRICS_TOKEN): a separate secret, never a
// tenant's API key, since any tenant would otherwise read every tenant's counts. Unset, it is open, like health
// checks; docs/security.md says to set it, or to keep the port private, wherever the port is reachable by others.
import type { ServerResponse } from "node:http";
import { apiKeyAuthenticator } from "./auth.js";
import { answer, type PlainRoute } from "./plain-routes.js";

export const METRICS_PATH = "/metrics";

/** Where the exposition comes from: this process's registry, or every worker's (server/cluster/worker.ts). */
export interface MetricsSource {
  text(): Promise<string>;
  readonly contentType: string;
}

/** Takes /metrics and nothing else; with a token, only requests bearing it. */
export function metricsRoute(metrics: MetricsSource, token?: string): PlainRoute {
  const allowed = token === undefined ? () => true : bearerCheck(token);
  return (req, res, path) => {
    if (path !== METRICS_PATH) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      answer(req, res, 405, "method not allowed", { allow: "GET, HEAD" });
      return true;
    }
    if (!allowed(req.headers.authorization)) {
      answer(req, res, 401, 'metrics: "authorization: Bearer <HOOKWIRE_METRICS_TOKEN>" is required', {
        "www-authenticate": 'Bearer realm="metrics"',
        "cache-control": "no-store",
      });
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

/** The scraper's token checked as an API key is (auth.ts: the same header form, digests compared in constant time). */
function bearerCheck(token: string): (header: string | undefined) => boolean {
  const authenticate = apiKeyAuthenticator([{ tenant: "metrics scraper", key: token }]);
  return (header) => {
    try {
      authenticate(header);
      return true;
    } catch {
      return false;
    }
  };
}
