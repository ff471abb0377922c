// GET /portal: the customer portal's static files, served like the console (static-app.ts). Its own files are in
// server/portal/; the modules it shares with the console (calls, DOM building, formats, the delivery list…) are
// served from server/console/ under the portal's path, so each exists once. The page holds no data and needs no
// credential to load: the portal session's token travels in the URL's fragment (never sent to a server), and every
// call the page makes carries it.
//
// Framing: the platform embeds the portal in an iframe on its own site. Only the origins HOOKWIRE_PORTAL_ORIGINS
// lists may (CSP frame-ancestors); with none, nobody may (frame-ancestors 'none' and X-Frame-Options DENY).
import { fileURLToPath } from "node:url";
import { CONSOLE_DIR } from "./console-route.js";
import type { PlainRoute } from "./plain-routes.js";
import { COMMON_SECURITY_HEADERS, staticAppRoute, type AppSource } from "./static-app.js";

export const PORTAL_DIR = fileURLToPath(new URL("../../portal/", import.meta.url));
export const PORTAL_PATH = "/portal";

/** The console's modules the portal imports (server/portal/tsconfig.json type-checks them together). */
export const SHARED_WITH_CONSOLE = [
  "console.css",
  "deliveries.js",
  "dom.js",
  "errors.js",
  "format.js",
  "icon.svg",
  "live.js",
  "load-more.js",
  "recover.js",
  "rpc.js",
  "session.js",
] as const;

export const PORTAL_SOURCES: readonly AppSource[] = [{ dir: PORTAL_DIR }, { dir: CONSOLE_DIR, only: SHARED_WITH_CONSOLE }];

/**
 * As the console's, but images may also come from https: and data: URLs (the platform's logo, from the session's
 * theme), and the page may be framed by the given origins (already validated: config.ts).
 */
export function portalCsp(frameAncestors: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' https: data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors.length ? frameAncestors.join(" ") : "'none'"}`,
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join("; ");
}

export function portalRoute(frameAncestors: readonly string[] = [], sources = PORTAL_SOURCES): PlainRoute {
  const headers: Record<string, string> = { ...COMMON_SECURITY_HEADERS, "content-security-policy": portalCsp(frameAncestors) };
  // X-Frame-Options cannot name origins (ALLOW-FROM is gone from browsers): it says DENY only when nobody may frame.
  if (frameAncestors.length === 0) headers["x-frame-options"] = "DENY";
  return staticAppRoute(PORTAL_PATH, sources, headers);
}
