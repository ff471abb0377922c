// What `hookwire` exits with, one code per thing a script handles differently. docs/cli.md
// lists the same table. No imports: every command loads this, and start-up stays fast.
export const EXIT = {
  ok: 0,
  /** `verify`: the signature does not match (the command worked; the answer is "no"). */
  invalidSignature: 1,
  /** Bad command line: unknown command or flag, missing argument, a value that does not parse. */
  usage: 2,
  /** Hookwire refused a field (INVALID_ARGUMENT); the line names the field. */
  invalidArgument: 3,
  notFound: 4,
  unauthenticated: 5,
  /** Hookwire cannot be reached, or cannot reach its store. */
  unavailable: 6,
  /** A limit (RESOURCE_EXHAUSTED): payload too large, too many events, … */
  limit: 7,
  /** Anything else Hookwire answered (INTERNAL, UNIMPLEMENTED, …) or an unexpected failure. */
  other: 8,
} as const;

/** A problem with the command line itself, found before any call. */
export class UsageError extends Error {
  override name = "UsageError";
}
