import { SECRET_PREFIX, signGithub, signStandard, standardWebhooksKey } from "../../sdk/signature.js";

/** The signed headers of one attempt. webhook-signature needs a whsec_ key; Send may be given a plain secret, which signs the GitHub-style header only. */
export function deliveryHeaders(messageId: string, event: string, body: string, secret: string, unixSeconds: number): Record<string, string> {
  const headers: Record<string, string> = {
    "webhook-id": messageId,
    "webhook-timestamp": String(unixSeconds),
    "x-webhook-event": event,
    "x-hub-signature-256": signGithub(body, secret),
  };
  if (secret.startsWith(SECRET_PREFIX)) {
    headers["webhook-signature"] = signStandard(messageId, unixSeconds, body, standardWebhooksKey(secret));
  }
  return headers;
}
