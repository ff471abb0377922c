// API keys: the one check of the authorization header, made at the front door (api/rpc-adapter.ts) before a
// request's body is read.
import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";

/** One tenant's API key (HOOKWIRE_API_KEYS). */
export interface ApiKey {
  tenant: string;
  key: string;
}

/** The tenant of the presented key, or a ConnectError with Code.Unauthenticated. */
export type Authenticate = (authorization: string | null | undefined) => string;

/** Key lookup by digest, so the comparison time does not depend on how much of a key matches. */
export function apiKeyAuthenticator(keys: readonly ApiKey[]): Authenticate {
  const digest = (k: string) => createHash("sha256").update(k).digest();
  const entries = keys.map((k) => ({ digest: digest(k.key), tenant: k.tenant }));
  return (header) => {
    if (!header) throw new ConnectError('missing "authorization: Bearer <api key>" header', Code.Unauthenticated);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new ConnectError('authorization header must be "Bearer <api key>"', Code.Unauthenticated);
    const d = digest(match[1]);
    let tenant: string | undefined;
    for (const e of entries) if (timingSafeEqual(e.digest, d)) tenant = e.tenant;
    if (tenant === undefined) throw new ConnectError("unknown API key", Code.Unauthenticated);
    return tenant;
  };
}
