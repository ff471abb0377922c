// The Sign and Verify use cases: the SDK's signature module, with the RPC's input rules.
import { SignatureScheme } from "@hookwire/sdk/proto";
import { checkGithub, checkStandard, SignatureInputError, signGithub, signStandard } from "@hookwire/sdk/internal";
import { invalid } from "../domain/errors.js";

export interface SignInput {
  body: Uint8Array;
  secret: string;
  scheme: SignatureScheme;
  webhookId: string;
  timestamp: bigint;
}

export interface VerifyInput extends SignInput {
  signature: string;
  toleranceSeconds: bigint;
}

function isStandard(scheme: SignatureScheme): boolean {
  switch (scheme) {
    case SignatureScheme.UNSPECIFIED:
    case SignatureScheme.GITHUB:
      return false;
    case SignatureScheme.STANDARD_WEBHOOKS:
      return true;
    default:
      throw invalid("scheme", `${scheme} is not a known signature scheme`);
  }
}

function standardInputs(input: SignInput): { webhookId: string; timestamp: number } {
  if (input.webhookId === "") throw invalid("webhook_id", "is required for the Standard Webhooks scheme");
  if (input.timestamp <= 0n) throw invalid("timestamp", "is required for the Standard Webhooks scheme (Unix seconds)");
  if (input.timestamp > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid("timestamp", "is out of range");
  return { webhookId: input.webhookId, timestamp: Number(input.timestamp) };
}

/** Runs fn, turning the signature module's input errors into INVALID_ARGUMENT ones. */
function withFieldErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SignatureInputError) throw invalid(err.field, err.message.slice(err.field.length + 2));
    throw err;
  }
}

export function signBody(input: SignInput): string {
  if (input.secret === "") throw invalid("secret", "is required");
  if (!isStandard(input.scheme)) return withFieldErrors(() => signGithub(input.body, input.secret));
  const { webhookId, timestamp } = standardInputs(input);
  return withFieldErrors(() => signStandard(webhookId, timestamp, input.body, input.secret));
}

/** Empty string when valid, else the reason. */
export function verifyBody(input: VerifyInput): string {
  if (input.secret === "") throw invalid("secret", "is required");
  if (input.signature === "") throw invalid("signature", "is required");
  if (!isStandard(input.scheme)) return withFieldErrors(() => checkGithub(input.body, input.signature, input.secret));
  const { webhookId, timestamp } = standardInputs(input);
  if (input.toleranceSeconds < 0n) throw invalid("tolerance_seconds", "must not be negative");
  const toleranceSeconds = input.toleranceSeconds > 0n ? Number(input.toleranceSeconds) : undefined;
  return withFieldErrors(() =>
    checkStandard({ webhookId, timestamp, body: input.body, signature: input.signature, secret: input.secret, toleranceSeconds }),
  );
}
