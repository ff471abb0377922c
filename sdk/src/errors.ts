// The SDK's errors: one class per thing a caller handles differently, each carrying the gRPC code.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Delivery, DeliveryAttempt } from "./types.js";

export { Code };

/** Every failure the SDK reports: a gRPC status code and Hookwire's message. Subclasses below. */
export class HookwireError extends Error {
  override name = "HookwireError";
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The gRPC name of the code, e.g. "INVALID_ARGUMENT". */
  get codeName(): string {
    return Code[this.code]!.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  }

  /** The error for anything a call threw: an SDK error as it is, a Connect error by its code. */
  static from(err: unknown): HookwireError {
    if (err instanceof HookwireError) return err;
    const ce = ConnectError.from(err);
    const Kind = lostConnection(ce) ? UnavailableError : BY_CODE[ce.code];
    return Kind ? new Kind(ce.rawMessage, { cause: err }) : new HookwireError(ce.code, ce.rawMessage, { cause: err });
  }
}

/**
 * Bad input (INVALID_ARGUMENT). `field` is the request field Hookwire named, e.g. "url", "events[0]" or
 * 'headers["x-token"]' (a map entry, its key JSON-quoted); for a payload refused by its event type's schema,
 * the place in it, e.g. "payload/items/0/price".
 */
export class InvalidArgumentError extends HookwireError {
  override name = "InvalidArgumentError";
  readonly field: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.InvalidArgument, message, options);
    this.field = /^([A-Za-z_](?:[\w.[\]/$~-]|"(?:[^"\\]|\\.)*")*): /.exec(message)?.[1] ?? "";
  }
}

/** No such subscription, message or delivery for this key's tenant (NOT_FOUND). */
export class NotFoundError extends HookwireError {
  override name = "NotFoundError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.NotFound, message, options);
  }
}

/** The API key is missing or unknown (UNAUTHENTICATED). */
export class UnauthenticatedError extends HookwireError {
  override name = "UnauthenticatedError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.Unauthenticated, message, options);
  }
}

/**
 * Hookwire could not be reached (nothing listening, the connection lost before the answer), or answered
 * that it cannot reach its store (UNAVAILABLE). A lost answer may follow a call that was applied, so
 * the SDK retries only calls whose repeat changes nothing (Trigger repeats its idempotency key).
 */
export class UnavailableError extends HookwireError {
  override name = "UnavailableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.Unavailable, message, options);
  }
}

/**
 * Hookwire delivered, and the receiver refused every attempt (or the attempts ran out). The call itself
 * succeeded, so the code is ABORTED, never UNAVAILABLE: Hookwire being down is UnavailableError.
 */
export class DeliveryFailedError extends HookwireError {
  override name = "DeliveryFailedError";
  constructor(
    message: string,
    /** The final delivery, with every attempt. */
    readonly delivery: Delivery,
  ) {
    super(Code.Aborted, message);
  }

  get attempts(): DeliveryAttempt[] {
    return this.delivery.attempts;
  }
}

const NETWORK_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/** connect-node reports a connection reset mid-call as ABORTED; for a caller it is Hookwire gone. */
function lostConnection(ce: ConnectError): boolean {
  const code = (ce.cause as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && NETWORK_ERRORS.has(code);
}

const BY_CODE: Partial<Record<Code, new (message: string, options?: { cause?: unknown }) => HookwireError>> = {
  [Code.InvalidArgument]: InvalidArgumentError,
  [Code.NotFound]: NotFoundError,
  [Code.Unauthenticated]: UnauthenticatedError,
  [Code.Unavailable]: UnavailableError,
};
