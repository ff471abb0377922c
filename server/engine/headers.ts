import { SECRET_PREFIX, signGithub, signStandard, standardWebhooksKey } from "@hookwire/sdk/internal";

/**
 * The signed headers of one attempt. webhook-signature needs a whsec_ key; Send may be given a plain
 * secret, which signs the GitHub-style header only. Previous (rotated-out) secrets add their
 * signatures to webhook-signature, space-separated, so receivers still on them keep verifying.
 */
export function deliveryHeaders(
  messageId: string,
  event: string,
  body: string,
  secret: string,
  unixSeconds: number,
  previousSecrets: readonly string[] = [],
): Record<string, string> {
  const headers: Record<string, string> = {
    "webhook-id": messageId,
    "webhook-timestamp": String(unixSeconds),
    "x-webhook-event": event,
    "x-hub-signature-256": signGithub(body, secret),
  };
  const standard = [secret, ...previousSecrets]
    .filter((s) => s.startsWith(SECRET_PREFIX))
    .map((s) => signStandard(messageId, unixSeconds, body, standardWebhooksKey(s)));
  if (standard.length > 0) headers["webhook-signature"] = standard.join(" ");
  return headers;
}
