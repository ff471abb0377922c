// For unit tests of the input rules: the message of the INVALID_ARGUMENT error a call throws.
import { expect } from "vitest";
import { DomainError } from "../../server/domain/errors.js";

/** Runs `fn`, which must throw a domain "invalid" error; answers its message (which starts with the field). */
export function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).kind).toBe("invalid");
    return (err as Error).message;
  }
  throw new Error("expected a validation error");
}
