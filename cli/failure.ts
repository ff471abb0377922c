// The one line on stderr that names a failure, and its exit code (exit-codes.ts). Loaded only when a
// command fails, since it pulls in the SDK.
import { Code, HookwireError } from "@hookwire/sdk";
import { EXIT, UsageError } from "./exit-codes.js";

export interface Failure {
  exitCode: number;
  line: string;
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/** The network error code somewhere in an error's cause chain, e.g. ECONNREFUSED. */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
  }
  return undefined;
}

/**
 * The exit code and stderr line for anything a command threw. `keySource` (cli/context.ts keySourceOf) says where
 * the key came from, so a refused key names the flag, variable or file it was taken from.
 */
export function describeFailure(err: unknown, baseUrl: string, keySource?: string): Failure {
  if (err instanceof UsageError) return { exitCode: EXIT.usage, line: err.message };
  if (!(err instanceof HookwireError)) {
    const net = networkCode(err);
    if (net) return { exitCode: EXIT.unavailable, line: `cannot reach Hookwire at ${baseUrl} (${net})` };
    return { exitCode: EXIT.other, line: err instanceof Error ? err.message : String(err) };
  }
  const message = err.message.replace(/\s+/g, " ").trim();
  switch (err.code) {
    case Code.InvalidArgument:
      // Hookwire's message starts with the field it refused ("url: must be http or https").
      return { exitCode: EXIT.invalidArgument, line: `invalid argument: ${message}` };
    case Code.NotFound:
      return { exitCode: EXIT.notFound, line: `not found: ${message}` };
    case Code.Unauthenticated:
      return { exitCode: EXIT.unauthenticated, line: `unauthenticated: ${message} (${keySource ? `${keySource}; ` : ""}pass --api-key or set HOOKWIRE_API_KEY)` };
    case Code.Unavailable: {
      const net = networkCode(err);
      if (net) return { exitCode: EXIT.unavailable, line: `cannot reach Hookwire at ${baseUrl} (${net})` };
      // Hookwire answered, but cannot reach its database ("the database cannot be reached; …").
      if (/database/i.test(message)) return { exitCode: EXIT.unavailable, line: `Hookwire at ${baseUrl} is unavailable: ${message}` };
      return { exitCode: EXIT.unavailable, line: `cannot reach Hookwire at ${baseUrl}: ${message}` };
    }
    case Code.ResourceExhausted:
      return { exitCode: EXIT.limit, line: `limit: ${message}` };
    default:
      return { exitCode: EXIT.other, line: `${err.codeName.toLowerCase()}: ${message}` };
  }
}
