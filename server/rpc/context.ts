import { createContextKey } from "@connectrpc/connect";

/** The tenant of the caller's API key, set by the auth interceptor before any handler runs. */
export const tenantKey = createContextKey<string>("", { description: "tenant of the authenticated API key" });
