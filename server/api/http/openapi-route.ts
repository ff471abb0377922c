// GET /openapi.yaml and /openapi.json: the OpenAPI 3.1 document of the Connect JSON surface, as generated from
// proto/ into openapi/ (npm run generate; CI fails when it is stale). Served by the server itself so a client
// generator can be pointed at a running Hookwire and get the document of the very version it talks to. No key:
// the document describes the API, it holds no tenant's data.
//
// Caching: read once at start (the files only change with the server's version); a cache may keep it five minutes,
// then revalidates with the ETag, so an upgrade shows within minutes without every tool refetching 100 KB.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { answer, type PlainRoute } from "./plain-routes.js";
import { asset, COMMON_SECURITY_HEADERS, sendAsset, type Asset } from "./static-app.js";

export const OPENAPI_DIR = fileURLToPath(new URL("../../../openapi/", import.meta.url));
/** Path on the service port → the generated file it serves, and its media type (RFC 9512 for YAML). */
export const OPENAPI_FILES = {
  "/openapi.yaml": { file: "hookwire.openapi.yaml", type: "application/yaml" },
  "/openapi.json": { file: "hookwire.openapi.json", type: "application/json" },
} as const;

const CACHE_CONTROL = "public, max-age=300";

const HEADERS = {
  ...COMMON_SECURITY_HEADERS,
  // Browser tools on another origin (an API explorer, an editor) may read it: it is public and carries no credential.
  "access-control-allow-origin": "*",
  "cross-origin-resource-policy": "cross-origin",
};

export function openapiRoute(dir = OPENAPI_DIR): PlainRoute {
  const files = new Map<string, Asset>();
  for (const [path, { file, type }] of Object.entries(OPENAPI_FILES)) files.set(path, asset(file, readFileSync(`${dir}${file}`), CACHE_CONTROL, type));
  return (req, res, path) => {
    const found = files.get(path);
    if (!found) return false;
    if (req.method !== "GET" && req.method !== "HEAD") answer(req, res, 405, "method not allowed", { allow: "GET, HEAD" });
    else sendAsset(req, res, found, HEADERS);
    return true;
  };
}
