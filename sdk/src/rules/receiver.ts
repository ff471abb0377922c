// What a receiver checks in a delivery, from its headers and raw body, whatever the runtime: which
// scheme, which headers, and what a refusal says. The signature check itself is the runtime's own
// (node:crypto or Web Crypto), passed in as `SignatureChecks`.
import { SECRET_PREFIX, SignatureInputError, type Body, type StandardVerifyInput } from "./signature.js";

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

/** A Fetch `Headers` (or anything with its `get`), or a plain object such as Node's `req.headers`. */
export type HeaderSource = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

/**
 * A request whose body has not been read yet: a Fetch `Request` (Workers, Deno, Bun, Next.js, Hono),
 * or a Node `IncomingMessage` (node:http, Express, Fastify's `request.raw`), given by its shape so that
 * no node: type is imported.
 */
export type DeliveryRequest = Request | (AsyncIterable<unknown> & { headers: Record<string, string | string[] | undefined> });

/** A runtime's signature checks: each answers empty when the signature matches, else why not. */
export interface SignatureChecks {
  checkGithub(body: Body, signature: string, secret: string): string | Promise<string>;
  checkStandard(input: StandardVerifyInput): string | Promise<string>;
}

type HeaderGetter = (name: string) => string | undefined;

/** Header names are case-insensitive; a plain object may spell them "Webhook-Id". */
function headerGetter(headers: HeaderSource): HeaderGetter {
  if (typeof headers.get === "function") {
    const h = headers as { get(name: string): string | null };
    return (name) => h.get(name) ?? undefined;
  }
  const byName = new Map<string, string>();
  for (const [name, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === "string" && !byName.has(name.toLowerCase())) byName.set(name.toLowerCase(), first);
  }
  return (name) => byName.get(name);
}

/** The scheme a receiver checks: what it asked for, else what its secret implies. */
export function receiverScheme(options: ReceiverOptions): ReceiverScheme {
  return options.scheme ?? (options.secret.startsWith(SECRET_PREFIX) ? "standard-webhooks" : "github");
}

/** A delivery's check, planned: refused already, or the signature check that decides. */
type DeliveryCheck =
  | { refused: VerifiedDelivery }
  | { scheme: "github"; signature: string; found: Found }
  | { scheme: "standard-webhooks"; input: StandardVerifyInput; found: Found };

interface Found {
  webhookId: string;
  event: string;
  body: string;
}

const utf8 = new TextDecoder();

/**
 * Plans the check with one scheme (see ReceiverOptions.scheme). It never falls back to the other:
 * x-hub-signature-256 signs neither id nor timestamp, so accepting it when webhook-signature is
 * missing would let anyone replay a captured delivery with the webhook-* headers stripped.
 */
function planDelivery(headers: HeaderSource, rawBody: Body, options: ReceiverOptions): DeliveryCheck {
  const get = headerGetter(headers);
  const body = typeof rawBody === "string" ? rawBody : utf8.decode(rawBody);
  const found: Found = { webhookId: get("webhook-id") ?? "", event: get("x-webhook-event") ?? "", body };
  const refuse = (reason: string): DeliveryCheck => ({ refused: { valid: false, reason, body } });
  if (receiverScheme(options) === "github") {
    const signature = get("x-hub-signature-256");
    if (!signature) return refuse("x-hub-signature-256 header is missing");
    return { scheme: "github", signature, found };
  }
  const signature = get("webhook-signature");
  if (!signature) return refuse("webhook-signature header is missing");
  if (!found.webhookId) return refuse("webhook-id header is missing");
  const timestamp = Number(get("webhook-timestamp"));
  if (!Number.isSafeInteger(timestamp) || timestamp <= 0) return refuse("webhook-timestamp header is missing or not Unix seconds");
  const input = { webhookId: found.webhookId, timestamp, body: rawBody, signature, secret: options.secret, toleranceSeconds: options.toleranceSeconds, now: options.now };
  return { scheme: "standard-webhooks", input, found };
}

/** The answer once the signature check said why not (empty: it matched). */
function settle(check: Exclude<DeliveryCheck, { refused: VerifiedDelivery }>, reason: string): VerifiedDelivery {
  const { webhookId, event, body } = check.found;
  return reason ? { valid: false, reason, body } : { valid: true, scheme: check.scheme, webhookId, event, body };
}

/** A secret that cannot key the scheme (not "whsec_" + base64, or empty) refuses rather than throws. */
function inputReason(err: unknown): string {
  if (err instanceof SignatureInputError) return err.message;
  throw err;
}

/** Checks a delivery's signature with one scheme (see ReceiverOptions.scheme) and the runtime's checks. */
export async function verifyDeliveryWith(checks: SignatureChecks, headers: HeaderSource, rawBody: Body | ArrayBuffer, options: ReceiverOptions): Promise<VerifiedDelivery> {
  const body = rawBody instanceof ArrayBuffer ? new Uint8Array(rawBody) : rawBody;
  const check = planDelivery(headers, body, options);
  if ("refused" in check) return check.refused;
  let reason: string;
  try {
    reason = check.scheme === "github" ? await checks.checkGithub(body, check.signature, options.secret) : await checks.checkStandard(check.input);
  } catch (err) {
    reason = inputReason(err);
  }
  return settle(check, reason);
}

/** A request's raw body, read whole (it must not have been read or parsed yet). */
export async function requestBody(req: DeliveryRequest): Promise<Uint8Array> {
  if (isFetchRequest(req)) return new Uint8Array(await req.arrayBuffer());
  // A Node stream yields Buffers, or strings once someone called setEncoding on it: a Blob takes both.
  const chunks: Array<Uint8Array | string> = [];
  for await (const chunk of req) chunks.push(chunk as Uint8Array | string);
  return new Uint8Array(await new Blob(chunks).arrayBuffer());
}

function isFetchRequest(req: DeliveryRequest): req is Request {
  return typeof (req as Request).arrayBuffer === "function";
}
