// Verifying an incoming delivery on the receiving side, from its headers and raw body.
import type { IncomingMessage } from "node:http";
import { checkGithub, checkStandard, SECRET_PREFIX, type Body } from "./signature.js";

export type ReceiverScheme = "standard-webhooks" | "github";

export interface ReceiverOptions {
  secret: string;
  /**
   * Which signature to check; nothing else is ever tried. Default: "standard-webhooks" for a "whsec_"
   * secret (the signature covers webhook-id and webhook-timestamp, so replays are refused), "github"
   * (x-hub-signature-256, body only, no replay protection) for any other secret.
   */
  scheme?: ReceiverScheme;
  /** How far webhook-timestamp may be from now (default 300 s). */
  toleranceSeconds?: number;
  /** Unix seconds; the clock when unset. */
  now?: number;
}

export type VerifiedDelivery =
  | { valid: true; scheme: ReceiverScheme; webhookId: string; event: string; body: string }
  | { valid: false; reason: string; body: string };

type HeaderGetter = (name: string) => string | undefined;
type HeaderRecord = Record<string, string | string[] | undefined>;

/** Header names are case-insensitive; a plain object may spell them "Webhook-Id". */
function fromRecord(headers: HeaderRecord): HeaderGetter {
  const byName = new Map<string, string>();
  for (const [name, v] of Object.entries(headers)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined && !byName.has(name.toLowerCase())) byName.set(name.toLowerCase(), first);
  }
  return (name) => byName.get(name);
}

/** The scheme a receiver checks: what it asked for, else what its secret implies. */
export function receiverScheme(options: ReceiverOptions): ReceiverScheme {
  return options.scheme ?? (options.secret.startsWith(SECRET_PREFIX) ? "standard-webhooks" : "github");
}

/**
 * Checks a delivery's signature with one scheme (see ReceiverOptions.scheme). It never falls back to
 * the other: x-hub-signature-256 signs neither id nor timestamp, so accepting it when webhook-signature
 * is missing would let anyone replay a captured delivery with the webhook-* headers stripped.
 */
export function verifyDelivery(headers: HeaderRecord | Headers, rawBody: Body, options: ReceiverOptions): VerifiedDelivery {
  const get: HeaderGetter = headers instanceof Headers ? (n) => headers.get(n) ?? undefined : fromRecord(headers);
  const body = typeof rawBody === "string" ? rawBody : Buffer.from(rawBody).toString("utf8");
  const webhookId = get("webhook-id") ?? "";
  const event = get("x-webhook-event") ?? "";
  const refuse = (reason: string): VerifiedDelivery => ({ valid: false, reason, body });
  if (receiverScheme(options) === "github") {
    const github = get("x-hub-signature-256");
    if (!github) return refuse("x-hub-signature-256 header is missing");
    const reason = checkGithub(rawBody, github, options.secret);
    return reason ? refuse(reason) : { valid: true, scheme: "github", webhookId, event, body };
  }
  const standard = get("webhook-signature");
  if (!standard) return refuse("webhook-signature header is missing");
  if (!webhookId) return refuse("webhook-id header is missing");
  const timestamp = Number(get("webhook-timestamp"));
  if (!Number.isSafeInteger(timestamp) || timestamp <= 0) return refuse("webhook-timestamp header is missing or not Unix seconds");
  let reason: string;
  try {
    reason = checkStandard({
      webhookId,
      timestamp,
      body: rawBody,
      signature: standard,
      secret: options.secret,
      toleranceSeconds: options.toleranceSeconds,
      now: options.now,
    });
  } catch (err) {
    // A secret that is not "whsec_" + base64 cannot key the Standard Webhooks signature.
    reason = (err as Error).message;
  }
  return reason ? refuse(reason) : { valid: true, scheme: "standard-webhooks", webhookId, event, body };
}

/** Reads the raw body of a Node request (it must not have been parsed yet) and verifies it. */
export async function verifyNodeRequest(req: IncomingMessage, options: ReceiverOptions): Promise<VerifiedDelivery> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return verifyDelivery(req.headers, Buffer.concat(chunks), options);
}

/** Verifies a Fetch API Request (Next.js route handlers, Hono, Deno, Bun, Cloudflare Workers). */
export async function verifyFetchRequest(req: Request, options: ReceiverOptions): Promise<VerifiedDelivery> {
  return verifyDelivery(req.headers, new Uint8Array(await req.arrayBuffer()), options);
}
