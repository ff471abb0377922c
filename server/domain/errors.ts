// Domain errors, each meaning one gRPC status; the RPC layer maps them, the domain never imports Connect.

export type ErrorKind =
  | "invalid"
  | "not_found"
  | "already_exists"
  | "exhausted"
  | "unavailable"
  | "failed_precondition"
  /** A scoped credential (a portal session) asking beyond its scope. */
  | "permission_denied"
  /** A credential that no longer opens anything (a portal session ended while its call ran). */
  | "unauthenticated";

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

/** A setting (or a file standing for one) that cannot be used: the process stops with one line naming it. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Bad input: the message starts with the field it is about. */
export function invalid(field: string, message: string): DomainError {
  return new DomainError("invalid", `${field}: ${message}`);
}

/** Nothing (of this tenant) has that id: the message starts with the field that carried it. */
export function notFound(field: string, what: string, id: string): DomainError {
  return new DomainError("not_found", `${field}: ${what} "${id}" not found`);
}

/** A portal session's call beyond its scope: the message starts with the field that asked for it, or the RPC. */
export function permissionDenied(message: string): DomainError {
  return new DomainError("permission_denied", message);
}
