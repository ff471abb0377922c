import { createContextKey } from "@connectrpc/connect";

/** The tenant of the caller's API key, set by the auth interceptor before any handler runs. */
export const tenantKey = createContextKey<string>("", { description: "tenant of the authenticated API key" });

/** A server stream's handler calls this with its response headers once it is listening (WatchDeliveries: once
 * its watch is registered); the front door then sends those headers, so a caller that has them knows that no
 * later outcome is missed, even when the first message is a long way off. */
export const streamReadyKey = createContextKey<(responseHeader: Headers) => void>(() => undefined, { description: "server stream is listening" });

/** The reason a stream's signal is aborted when the front door ends it on schedule (a public stream's lifetime,
 * api/http/public-streams.ts): the handler ends it as done, and it is counted OK, not CANCELLED. */
export class StreamLifetimeOver extends Error {
  override name = "StreamLifetimeOver";
}
