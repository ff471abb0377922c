// A browser app's static files, served by Hookwire itself on the service port: the web console (/console) and the
// customer portal (/portal). The files are read once at start-up into memory (a few tens of KiB) and only those
// names are served, so no request path ever reaches the file system. The pages hold no data: everything they show
// comes from RPCs, which carry the caller's own credential.
//
// Caching: the assets live under <path>/v/<hash of all files>/, so they can be cached for good (immutable); the
// page itself is revalidated on every load (no-cache + ETag), and names the current hash (%VERSION% in it).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { answer, type PlainRoute, type Req, type Res } from "./plain-routes.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Headers every response of every app carries, besides its own Content-Security-Policy and framing rule. */
export const COMMON_SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

export interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer | undefined;
  etag: string;
  cacheControl: string;
}

/** A folder of the app's files: all its servable files, or only the names listed (modules shared with another app). */
export interface AppSource {
  dir: string;
  only?: readonly string[];
}

/** One file held in memory, with its ETag and (when it pays) its gzip form; its type from its name unless given. */
export function asset(name: string, body: Buffer, cacheControl: string, type?: string): Asset {
  const gz = gzipSync(body, { level: 9 });
  return {
    type: type ?? TYPES[extname(name)] ?? "application/octet-stream",
    body,
    // Compressing a tiny file gains nothing.
    gzip: gz.length < body.length * 0.9 ? gz : undefined,
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
    cacheControl,
  };
}

/**
 * The app's files from its sources, in one flat name space (so a module's `./x.js` import finds x.js whichever
 * folder holds it): index.html is the page, the rest are its assets. A name found twice is refused.
 */
export function loadApp(sources: readonly AppSource[]): { version: string; page: Asset; assets: Map<string, Asset> } {
  const files = new Map<string, Buffer>();
  for (const { dir, only } of sources) {
    const names = only ?? readdirSync(dir).filter((n) => n in TYPES || extname(n) in TYPES);
    for (const n of names) {
      if (files.has(n)) throw new Error(`static app: ${n} is in more than one of its folders`);
      files.set(n, readFileSync(join(dir, n)));
    }
  }
  const index = files.get("index.html");
  if (!index) throw new Error(`static app: ${sources.map((s) => s.dir).join(", ")} has no index.html`);
  const all = createHash("sha256");
  for (const n of [...files.keys()].sort()) all.update(n).update("\0").update(files.get(n)!).update("\0");
  const version = all.digest("hex").slice(0, 12);
  const page = asset("index.html", Buffer.from(index.toString("utf8").replaceAll("%VERSION%", version)), "no-cache");
  const assets = new Map<string, Asset>();
  for (const [n, b] of files) if (n !== "index.html") assets.set(n, asset(n, b, "public, max-age=31536000, immutable"));
  return { version, page, assets };
}

/** GET and HEAD of `path` (the page) and `path`/v/<version>/<asset>, each answer with `securityHeaders`. */
export function staticAppRoute(path: string, sources: readonly AppSource[], securityHeaders: Record<string, string>): PlainRoute {
  const { version, page, assets } = loadApp(sources);
  const assetPrefix = `${path}/v/${version}/`;
  return (req, res, reqPath) => {
    if (reqPath !== path && !reqPath.startsWith(path + "/")) return false;
    let found: Asset | undefined;
    if (reqPath === path || reqPath === path + "/") found = page;
    else if (reqPath.startsWith(assetPrefix)) found = assets.get(reqPath.slice(assetPrefix.length));
    // An asset of another version (a page loaded before an upgrade) is not served: its hash would lie.
    if (!found) {
      answer(req, res, 404, "not found");
      return true;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      answer(req, res, 405, "method not allowed", { allow: "GET, HEAD" });
      return true;
    }
    sendAsset(req, res, found, securityHeaders);
    return true;
  };
}

/** Answers a GET or HEAD with the file: 304 when the caller's ETag matches, gzip when the caller takes it. */
export function sendAsset(req: Req, res: Res, found: Asset, securityHeaders: Record<string, string>): void {
  const headers: Record<string, string> = {
    ...securityHeaders,
    "content-type": found.type,
    "cache-control": found.cacheControl,
    etag: found.etag,
    vary: "accept-encoding",
  };
  if (etagMatches(req.headers["if-none-match"], found.etag)) {
    (res as ServerResponse).writeHead(304, headers);
    (res as ServerResponse).end();
    return;
  }
  const gzip = found.gzip && acceptsGzip(req.headers["accept-encoding"]);
  const body = gzip ? found.gzip! : found.body;
  if (gzip) headers["content-encoding"] = "gzip";
  headers["content-length"] = String(body.length);
  (res as ServerResponse).writeHead(200, headers);
  (res as ServerResponse).end(req.method === "HEAD" ? undefined : body);
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
