// GET /console: the web console's static files (server/console/), served by Hookwire itself on the service port.
// The files are read once at start-up into memory (a few tens of KiB) and only those names are served, so no
// request path ever reaches the file system. The console needs no key to load: its pages hold no data, and
// every call it makes carries the key the operator signs in with.
//
// Caching: the assets live under /console/v/<hash of all files>/, so they can be cached for good
// (immutable); the page itself is revalidated on every load (no-cache + ETag), and names the current hash.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { answer, type PlainRoute, type Req } from "./plain-routes.js";

const ASSETS_DIR = fileURLToPath(new URL("../../console/", import.meta.url));
export const CONSOLE_PATH = "/console";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Only our own files, no inline script or style (so the page cannot run what data smuggles in), no framing;
 * Trusted Types makes the browser refuse any HTML string assigned to innerHTML and its kin. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer | undefined;
  etag: string;
  cacheControl: string;
}

function asset(name: string, body: Buffer, cacheControl: string): Asset {
  const gz = gzipSync(body, { level: 9 });
  return {
    type: TYPES[extname(name)] ?? "application/octet-stream",
    body,
    // Compressing a tiny file gains nothing.
    gzip: gz.length < body.length * 0.9 ? gz : undefined,
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
    cacheControl,
  };
}

/** The console's files from dir: index.html is the page, the rest are its assets. */
export function loadConsole(dir = ASSETS_DIR): { version: string; page: Asset; assets: Map<string, Asset> } {
  const names = readdirSync(dir)
    .filter((n) => n in TYPES || extname(n) in TYPES)
    .sort();
  const files = new Map(names.map((n) => [n, readFileSync(join(dir, n))]));
  const index = files.get("index.html");
  if (!index) throw new Error(`console: ${dir} has no index.html`);
  const all = createHash("sha256");
  for (const [n, b] of files) all.update(n).update("\0").update(b).update("\0");
  const version = all.digest("hex").slice(0, 12);
  const page = asset("index.html", Buffer.from(index.toString("utf8").replaceAll("%VERSION%", version)), "no-cache");
  const assets = new Map<string, Asset>();
  for (const [n, b] of files) if (n !== "index.html") assets.set(n, asset(n, b, "public, max-age=31536000, immutable"));
  return { version, page, assets };
}

export function consoleRoute(dir?: string): PlainRoute {
  const { version, page, assets } = loadConsole(dir);
  const assetPrefix = `${CONSOLE_PATH}/v/${version}/`;
  return (req, res, path) => {
    if (path !== CONSOLE_PATH && !path.startsWith(CONSOLE_PATH + "/")) return false;
    let found: Asset | undefined;
    if (path === CONSOLE_PATH || path === CONSOLE_PATH + "/") found = page;
    else if (path.startsWith(assetPrefix)) found = assets.get(path.slice(assetPrefix.length));
    // An asset of another version (a page loaded before an upgrade) is not served: its hash would lie.
    if (!found) {
      answer(req, res, 404, "not found");
      return true;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      answer(req, res, 405, "method not allowed", { allow: "GET, HEAD" });
      return true;
    }
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      "content-type": found.type,
      "cache-control": found.cacheControl,
      etag: found.etag,
      vary: "accept-encoding",
    };
    if (etagMatches(req.headers["if-none-match"], found.etag)) {
      (res as ServerResponse).writeHead(304, headers);
      (res as ServerResponse).end();
      return true;
    }
    const gzip = found.gzip && acceptsGzip(req.headers["accept-encoding"]);
    const body = gzip ? found.gzip! : found.body;
    if (gzip) headers["content-encoding"] = "gzip";
    headers["content-length"] = String(body.length);
    (res as ServerResponse).writeHead(200, headers);
    (res as ServerResponse).end(req.method === "HEAD" ? undefined : body);
    return true;
  };
}

function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (typeof header !== "string") return false;
  return header.trim() === "*" || header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

function acceptsGzip(header: string | string[] | undefined): boolean {
  if (typeof header !== "string") return false;
  return header.split(",").some((part) => {
    const [coding, ...params] = part.trim().split(";");
    if (coding?.trim().toLowerCase() !== "gzip") return false;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    return q === undefined || Number(q) > 0;
  });
}
