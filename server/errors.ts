// Domain errors, each meaning one gRPC status; the RPC layer maps them, the domain never imports Connect.
import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerClosedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoClientClosedError,
} from "mongodb";

export type ErrorKind = "invalid" | "not_found" | "already_exists" | "exhausted" | "unavailable" | "failed_precondition";

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

/** Bad input: the message starts with the field it is about. */
export function invalid(field: string, message: string): DomainError {
  return new DomainError("invalid", `${field}: ${message}`);
}

/** Nothing (of this tenant) has that id: the message starts with the field that carried it. */
export function notFound(field: string, what: string, id: string): DomainError {
  return new DomainError("not_found", `${field}: ${what} "${id}" not found`);
}

/** True when the error means MongoDB cannot be reached (as opposed to refusing a request). */
export function isStoreUnavailable(err: unknown): boolean {
  return (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoServerClosedError ||
    err instanceof MongoClientClosedError
  );
}
