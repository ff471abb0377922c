// Customer portal sessions (issue 24): made and ended by a tenant's key, checked on every call a portal
// makes. What a session may then do is the API's scope (server/api/scope.ts).
import { DomainError, invalid } from "../domain/errors.js";
import {
  isPortalToken,
  newPortalToken,
  portalTokenDigest,
  validatePortalTheme,
  validatePortalTtl,
  type PortalSession,
  type PortalTheme,
} from "../domain/portal.js";
import { validateOwner } from "../domain/validation.js";
import type { PortalSessions } from "../ports.js";
import type { HookwireMetrics } from "../telemetry/metrics.js";

export interface PortalDeps {
  store: PortalSessions;
  metrics: Pick<HookwireMetrics, "portalSessionCreated">;
  /** HOOKWIRE_PUBLIC_URL (an origin): where the portal's url points; undefined, the origin each request came to. */
  publicUrl: string | undefined;
}

export interface CreatePortalSessionInput {
  owner: string;
  /** 0 for the default. */
  ttlSeconds: bigint;
  theme: PortalTheme;
}

export interface CreatedPortalSession {
  token: string;
  url: string;
  expiresAt: Date;
}

/** The owner a session is for or a revocation names: required, and a valid owner. */
function requiredOwner(owner: string): string {
  if (owner === "") throw invalid("owner", "is required: the customer (owner) the portal is for");
  return validateOwner(owner);
}

/** `requestOrigin`: the origin the request came to, for the url when HOOKWIRE_PUBLIC_URL is unset. */
export async function createPortalSession(deps: PortalDeps, tenant: string, input: CreatePortalSessionInput, requestOrigin: string): Promise<CreatedPortalSession> {
  const owner = requiredOwner(input.owner);
  const ttl = validatePortalTtl(input.ttlSeconds);
  const theme = validatePortalTheme(input.theme);
  const token = newPortalToken();
  const createdAt = new Date();
  const expiresAt = new Date(createdAt.getTime() + ttl * 1000);
  await deps.store.create({ digest: portalTokenDigest(token), tenant, owner, createdAt, expiresAt, theme });
  deps.metrics.portalSessionCreated(tenant);
  // In the fragment, which browsers never send to a server (nor in a Referer).
  return { token, url: `${deps.publicUrl ?? requestOrigin}/portal#token=${token}`, expiresAt };
}

/** Ends every session of the owner; answers how many were still live. */
export async function revokePortalSessions(deps: PortalDeps, tenant: string, owner: string): Promise<number> {
  return deps.store.revokeOwner(tenant, requiredOwner(owner), new Date());
}

/**
 * The live session a presented token opens, without its theme; undefined when it opens none (not a
 * token's form, never made, altered, expired or revoked: one answer for all, so a caller learns nothing).
 * Only a token of the right form costs a store read.
 */
export async function portalSessionOf(deps: Pick<PortalDeps, "store">, token: string): Promise<PortalSession | undefined> {
  if (!isPortalToken(token)) return undefined;
  const session = await deps.store.byDigest(portalTokenDigest(token));
  return session && session.expiresAt.getTime() > Date.now() ? session : undefined;
}

/** The calling session as stored now, its theme included (GetPortalSession). */
export async function getPortalSession(deps: Pick<PortalDeps, "store">, session: PortalSession): Promise<PortalSession> {
  const now = await deps.store.byDigest(session.digest, true);
  // Revoked (or expired) since the call was let in.
  if (!now || now.expiresAt.getTime() <= Date.now()) throw new DomainError("unauthenticated", "portal session expired or revoked");
  return now;
}
