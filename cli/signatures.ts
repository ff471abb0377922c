// `hookwire sign` and `hookwire verify`: local, with the SDK's signature functions (no server, no key),
// for both schemes: GitHub style (x-hub-signature-256) and Standard Webhooks (webhook-signature).
// The signature functions (and node:crypto under them) are loaded by the two commands that use them, not by
// every command's start (`hookwire --help` among them).
type Signatures = typeof import("@hookwire/sdk/node");
const signatures = (): Promise<Signatures> => import("@hookwire/sdk/node");
import { Command, Option } from "commander";
import { EXIT, UsageError } from "./exit-codes.js";
import { integer, readSource } from "./input.js";
import { printJson, printLine } from "./output.js";

type Scheme = "github" | "standard-webhooks";

interface SignOptions {
  secret: string;
  body?: string;
  scheme?: Scheme;
  id?: string;
  timestamp?: number;
  json?: boolean;
}

async function bodyOf(opts: { body?: string }): Promise<Buffer> {
  // The exact bytes, never re-encoded or trimmed: a signature covers every byte, newline included.
  const body = await readSource(opts.body, "--body");
  if (body === undefined) throw new UsageError("--body: give the body (text, @file or -), or pipe it on stdin");
  return body;
}

function standardInputs(opts: SignOptions, defaultNow: boolean): { webhookId: string; timestamp: number } {
  if (!opts.id) throw new UsageError("--id: Standard Webhooks signs the webhook id (the webhook-id header)");
  const timestamp = opts.timestamp ?? (defaultNow ? Math.floor(Date.now() / 1000) : undefined);
  if (timestamp === undefined) throw new UsageError("--timestamp: Standard Webhooks signs the time (the webhook-timestamp header, Unix seconds)");
  return { webhookId: opts.id, timestamp };
}

/** The SDK refuses a malformed secret or input with SignatureInputError: a usage error here. */
async function local<T>(fn: (sig: Signatures) => Promise<T>): Promise<T> {
  const sig = await signatures();
  try {
    return await fn(sig);
  } catch (err) {
    if (err instanceof sig.SignatureInputError) {
      const flag = err.field === "webhook_id" ? "id" : err.field;
      throw new UsageError(`--${flag}: ${err.message.slice(err.field.length + 2)}`);
    }
    throw err;
  }
}

const schemeOption = () =>
  new Option("--scheme <scheme>", "github (x-hub-signature-256) or standard-webhooks (webhook-signature)").choices(["github", "standard-webhooks"]);

export function signCommand(): Command {
  return new Command("sign")
    .description("sign a body locally, as Hookwire signs deliveries")
    .requiredOption("--secret <secret>", "the subscription's secret")
    .option("--body <body>", "the body: text, @file, or - for stdin (default: stdin)")
    .addOption(schemeOption().default("github"))
    .option("--id <webhook-id>", "standard-webhooks: the webhook-id (the message id)")
    .option("--timestamp <seconds>", "standard-webhooks: Unix seconds (default now)", integer("--timestamp"))
    .action(async (opts: SignOptions, cmd: Command) => {
      const json = cmd.optsWithGlobals<{ json?: boolean }>().json === true;
      const body = await bodyOf(opts);
      if (opts.scheme === "standard-webhooks") {
        const { webhookId, timestamp } = standardInputs(opts, true);
        const signature = await local((sig) => sig.signStandard(webhookId, timestamp, body, opts.secret));
        if (json) return printJson({ scheme: opts.scheme, signature, webhookId, timestamp });
        return printLine(signature);
      }
      const signature = await local((sig) => sig.signGithub(body, opts.secret));
      if (json) return printJson({ scheme: "github", signature });
      printLine(signature);
    });
}

export function verifyCommand(): Command {
  return new Command("verify")
    .description("check a signature locally; exit code 1 when it does not match")
    .requiredOption("--secret <secret>", "the subscription's secret")
    .requiredOption("--signature <signature>", "sha256=… (x-hub-signature-256) or v1,… entries (webhook-signature)")
    .option("--body <body>", "the raw body: text, @file, or - for stdin (default: stdin)")
    .addOption(schemeOption())
    .option("--id <webhook-id>", "standard-webhooks: the webhook-id header")
    .option("--timestamp <seconds>", "standard-webhooks: the webhook-timestamp header", integer("--timestamp"))
    .option("--tolerance <seconds>", "standard-webhooks: how far the timestamp may be from now (default 300)", integer("--tolerance"))
    .action(async (opts: SignOptions & { signature: string; tolerance?: number }, cmd: Command) => {
      const json = cmd.optsWithGlobals<{ json?: boolean }>().json === true;
      const body = await bodyOf(opts);
      // Without --scheme, the signature's own form says which it is: "sha256=…" or "v1,…".
      const scheme: Scheme = opts.scheme ?? (opts.signature.startsWith("sha256=") ? "github" : "standard-webhooks");
      const reason =
        scheme === "github"
          ? await local((sig) => sig.checkGithub(body, opts.signature, opts.secret))
          : await local((sig) => sig.checkStandard({ ...standardInputs(opts, false), body, signature: opts.signature, secret: opts.secret, toleranceSeconds: opts.tolerance }));
      const valid = reason === "";
      if (json) printJson({ scheme, valid, reason });
      else printLine(valid ? `valid (${scheme})` : `invalid (${scheme}): ${reason}`);
      if (!valid) process.exitCode = EXIT.invalidSignature;
    });
}
