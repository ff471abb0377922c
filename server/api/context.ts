import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { PortalSession } from "../ports.js";

/**
 * Who is calling, as the front door's authentication found it (api/http/auth.ts): a tenant's API key, or a
 * customer portal session of one owner of the tenant (`portal`), whose calls the scope (scope.ts) bounds.
 */
export interface Caller {
  tenant: string;
  /** Set for a portal session's token: the session (its owner, expiry), without its theme. */
  portal?: PortalSession | undefined;
}

/** The caller, set by the front door before any handler runs; unset only for the public services. */
export const callerKey = createContextKey<Caller | undefined>(undefined, { description: "the authenticated caller" });

/** The call's caller; a call that reached a handler unauthenticated is refused (never answered as a tenant's). */
export function callerOf(ctx: Pick<HandlerContext, "values">): Caller {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw new ConnectError("missing authentication", Code.Unauthenticated);
  return caller;
}

/** A server stream's handler calls this with its response headers once it is listening (WatchDeliveries: once
 * its watch is registered); the front door then sends those headers, so a caller that has them knows that no
 * later outcome is missed, even when the first message is a long way off. */
export const streamReadyKey = createContextKey<(responseHeader: Headers) => void>(() => undefined, { description: "server stream is listening" });

/** The reason a stream's signal is aborted when the front door ends it on schedule (a public stream's lifetime,
 * api/http/public-streams.ts): the handler ends it as done, and it is counted OK, not CANCELLED. */
export class StreamLifetimeOver extends Error {
  override name = "StreamLifetimeOver";
}
