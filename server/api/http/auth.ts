// The one check of the authorization header, made at the front door (api/http/rpc-adapter.ts) before a
// request's body is read: a tenant's API key, compared in memory at once, or else a customer portal
// session's token ("hwp_…"), looked up in the store by its digest (the caller then waits for that read,
// its body unread).
import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { PORTAL_TOKEN_PREFIX } from "../../domain/portal.js";
import type { PortalSession } from "../../ports.js";
import type { Caller } from "../context.js";

/** One tenant's API key (HOOKWIRE_API_KEYS). */
export interface ApiKey {
  tenant: string;
  key: string;
}

/**
 * The caller the presented credential stands for: at once for an API key, after a store read for a portal
 * token. Refused with a ConnectError (UNAUTHENTICATED; UNAVAILABLE when the store cannot be read).
 */
export type Authenticate = (authorization: string | null | undefined) => Caller | Promise<Caller>;

/** How portal tokens are checked (usecases/portal.ts); without, only API keys are accepted. */
export interface PortalAuthentication {
  /** The live session of a token; undefined for none. */
  session(token: string): Promise<PortalSession | undefined>;
  /** A token that opened nothing. */
  refused(): void;
  /** The store could not be read. */
  failed(err: unknown): void;
}

/** Never says which tenant or owner the token was for, nor whether it ever existed. */
export const PORTAL_SESSION_ENDED = "portal session expired or revoked";

/** Key lookup by digest, so the comparison time does not depend on how much of a key matches. */
export function apiKeyAuthenticator(keys: readonly ApiKey[], portal?: PortalAuthentication): Authenticate {
  const digest = (k: string) => createHash("sha256").update(k).digest();
  // One caller object per key, made once: a call with a key allocates nothing for it.
  const entries = keys.map((k) => ({ digest: digest(k.key), caller: Object.freeze({ tenant: k.tenant }) as Caller }));
  // A session of a tenant whose key is no longer configured opens nothing.
  const tenants = new Set(keys.map((k) => k.tenant));

  async function portalCaller(p: PortalAuthentication, token: string): Promise<Caller> {
    let session: PortalSession | undefined;
    try {
      session = await p.session(token);
    } catch (err) {
      p.failed(err);
      throw new ConnectError("the database cannot be reached; the call did not complete, try again", Code.Unavailable);
    }
    if (!session || !tenants.has(session.tenant)) {
      p.refused();
      throw new ConnectError(PORTAL_SESSION_ENDED, Code.Unauthenticated);
    }
    return { tenant: session.tenant, portal: session };
  }

  return (header) => {
    if (!header) throw new ConnectError('missing "authorization: Bearer <api key>" header', Code.Unauthenticated);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new ConnectError('authorization header must be "Bearer <api key>"', Code.Unauthenticated);
    const d = digest(match[1]);
    let caller: Caller | undefined;
    for (const e of entries) if (timingSafeEqual(e.digest, d)) caller = e.caller;
    if (caller) return caller;
    // API keys first: a configured key that happens to start with the prefix stays a key.
    if (portal && match[1].startsWith(PORTAL_TOKEN_PREFIX)) return portalCaller(portal, match[1]);
    throw new ConnectError("unknown API key", Code.Unauthenticated);
  };
}
