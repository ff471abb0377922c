import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { ApiKey } from "../config.js";
import { DomainError, isStoreUnavailable, type ErrorKind } from "../errors.js";
import { errorFields, type Logger } from "../log.js";
import { tenantKey } from "./context.js";

const CODES: Record<ErrorKind, Code> = {
  invalid: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  failed_precondition: Code.FailedPrecondition,
};

/** Every failure as a ConnectError: domain errors keep their message, unexpected ones are logged and hidden. */
export function toConnectError(err: unknown, log: Logger, procedure: string): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof DomainError) return new ConnectError(err.message, CODES[err.kind]);
  if (isStoreUnavailable(err)) {
    log.warn("store unavailable", { procedure, ...errorFields(err) });
    return new ConnectError("the database cannot be reached; nothing was stored, try again", Code.Unavailable);
  }
  log.error("internal error", { procedure, ...errorFields(err), stack: err instanceof Error ? err.stack : undefined });
  return new ConnectError("internal error", Code.Internal);
}

/** Key lookup by digest, so the comparison time does not depend on how much of a key matches. */
function keyIndex(keys: readonly ApiKey[]): (presented: string) => string | undefined {
  const digest = (k: string) => createHash("sha256").update(k).digest();
  const entries = keys.map((k) => ({ digest: digest(k.key), tenant: k.tenant }));
  return (presented) => {
    const d = digest(presented);
    let tenant: string | undefined;
    for (const e of entries) if (timingSafeEqual(e.digest, d)) tenant = e.tenant;
    return tenant;
  };
}

/** Services callable without a key (health checks, reflection). */
export const PUBLIC_SERVICES = new Set<string>();

export function authInterceptor(keys: readonly ApiKey[]): Interceptor {
  const lookup = keyIndex(keys);
  return (next) => async (req) => {
    if (PUBLIC_SERVICES.has(req.service.typeName)) return next(req);
    const header = req.header.get("authorization");
    if (!header) throw new ConnectError('missing "authorization: Bearer <api key>" header', Code.Unauthenticated);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new ConnectError('authorization header must be "Bearer <api key>"', Code.Unauthenticated);
    const tenant = lookup(match[1]);
    if (tenant === undefined) throw new ConnectError("unknown API key", Code.Unauthenticated);
    req.contextValues.set(tenantKey, tenant);
    return next(req);
  };
}

export function errorInterceptor(log: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const procedure = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      log.debug("rpc", { procedure, ms: Math.round(performance.now() - started) });
      return res;
    } catch (err) {
      const ce = toConnectError(err, log, procedure);
      log.debug("rpc failed", { procedure, code: Code[ce.code], ms: Math.round(performance.now() - started) });
      throw ce;
    }
  };
}
