// GET /console: the web console's static files (server/console/), served by Hookwire itself on the service port
// (static-app.ts: read once at start, versioned immutable assets, the page revalidated). The console needs no key
// to load: its pages hold no data, and every call it makes carries the key the operator signs in with.
import { fileURLToPath } from "node:url";
import type { PlainRoute } from "./plain-routes.js";
import { COMMON_SECURITY_HEADERS, loadApp, staticAppRoute } from "./static-app.js";

export const CONSOLE_DIR = fileURLToPath(new URL("../../console/", import.meta.url));
export const CONSOLE_PATH = "/console";

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
  ...COMMON_SECURITY_HEADERS,
  "content-security-policy": CONSOLE_CSP,
  "x-frame-options": "DENY",
};

/** The console's files from dir: index.html is the page, the rest are its assets. */
export function loadConsole(dir = CONSOLE_DIR) {
  return loadApp([{ dir }]);
}

export function consoleRoute(dir = CONSOLE_DIR): PlainRoute {
  return staticAppRoute(CONSOLE_PATH, [{ dir }], SECURITY_HEADERS);
}
