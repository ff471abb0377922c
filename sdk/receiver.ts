// Verifying an incoming delivery on the receiving side, from its headers and raw body.
import type { IncomingMessage } from "node:http";
import { checkGithub, checkStandard, SECRET_PREFIX, type Body } from "./signature.js";

export interface ReceiverOptions {
  secret: string;
  /** How far webhook-timestamp may be from now (default 300 s). */
  toleranceSeconds?: number;
  /** Unix seconds; the clock when unset. */
  now?: number;
}

export type VerifiedDelivery =
  | { valid: true; scheme: "standard-webhooks" | "github"; webhookId: string; event: string; body: string }
  | { valid: false; reason: string; body: string };

type HeaderGetter = (name: string) => string | undefined;

function fromRecord(headers: Record<string, string | string[] | undefined>): HeaderGetter {
  return (name) => {
    const v = headers[name] ?? headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
}

/**
 * Checks a delivery's signature. With a "whsec_" secret and webhook-* headers present, the Standard
 * Webhooks signature is checked (it covers the timestamp, so replays are refused); otherwise
 * x-hub-signature-256.
 */
export function verifyDelivery(
  headers: Record<string, string | string[] | undefined> | Headers,
  rawBody: Body,
  options: ReceiverOptions,
): VerifiedDelivery {
  const get: HeaderGetter = headers instanceof Headers ? (n) => headers.get(n) ?? undefined : fromRecord(headers);
  const body = typeof rawBody === "string" ? rawBody : Buffer.from(rawBody).toString("utf8");
  const webhookId = get("webhook-id") ?? "";
  const event = get("x-webhook-event") ?? "";
  const standard = get("webhook-signature");
  if (standard && options.secret.startsWith(SECRET_PREFIX)) {
    const timestamp = Number(get("webhook-timestamp"));
    if (!webhookId) return { valid: false, reason: "webhook-id header is missing", body };
    if (!Number.isSafeInteger(timestamp) || timestamp <= 0) return { valid: false, reason: "webhook-timestamp header is missing or not Unix seconds", body };
    const reason = checkStandard({
      webhookId,
      timestamp,
      body: rawBody,
      signature: standard,
      secret: options.secret,
      toleranceSeconds: options.toleranceSeconds,
      now: options.now,
    });
    return reason ? { valid: false, reason, body } : { valid: true, scheme: "standard-webhooks", webhookId, event, body };
  }
  const github = get("x-hub-signature-256");
  if (!github) return { valid: false, reason: "no webhook-signature or x-hub-signature-256 header", body };
  const reason = checkGithub(rawBody, github, options.secret);
  return reason ? { valid: false, reason, body } : { valid: true, scheme: "github", webhookId, event, body };
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
