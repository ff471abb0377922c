// An attempt is prepared when it starts, from what holds now: the subscription's current URL, secrets,
// extra headers and rate limit (it may have been changed, disabled or deleted since the Trigger), or a
// pending Send's kept secret.
// Stored deliveries carry no secret, so this is the only way an attempt gets one.
import { SecretUnreadableError, type Delivery, type SendSecrets, type Subscriptions } from "../ports.js";
import { activePreviousSecrets } from "../domain/model.js";
import type { EndpointHeader } from "../domain/endpoint-headers.js";

export interface PreparedAttempt {
  url: string;
  secret: string;
  /** Rotated-out secrets still within their time to live: they sign webhook-signature too. */
  previousSecrets: string[];
  /** The subscription's extra request headers (none for a Send). */
  headers: readonly EndpointHeader[];
  /** Its endpoint's limit of attempts a second; 0 for none (and for a Send). */
  ratePerSecond: number;
}

/** Either what the attempt needs, or why it cannot be made at all (the delivery then ends failed). */
export type Preparation = { ok: true; attempt: PreparedAttempt } | { ok: false; reason: string };

export type PrepareAttempt = (doc: Delivery) => Promise<Preparation>;

const NO_HEADERS: readonly EndpointHeader[] = Object.freeze([]);

/** Store errors are thrown (the attempt is retried later); a missing target is an answer. */
export function attemptPreparer(subscriptions: Subscriptions, sendSecrets: SendSecrets): PrepareAttempt {
  const refuse = (reason: string): Preparation => ({ ok: false, reason });
  return async (doc) => {
    try {
      if (doc.subscriptionId === "") {
        const secret = await sendSecrets.get(doc.tenant, doc._id);
        if (secret === undefined) return refuse("not sent: the secret of this Send is no longer kept");
        return { ok: true, attempt: { url: doc.url, secret, previousSecrets: [], headers: NO_HEADERS, ratePerSecond: 0 } };
      }
      const sub = await subscriptions.activeById(doc.tenant, doc.owner ?? "", doc.subscriptionId);
      if (sub) {
        const previousSecrets = activePreviousSecrets(sub).map((p) => p.secret);
        return { ok: true, attempt: { url: sub.url, secret: sub.secret, previousSecrets, headers: sub.headers ?? NO_HEADERS, ratePerSecond: sub.rateLimitPerSecond ?? 0 } };
      }
      const current = await subscriptions.get(doc.tenant, doc.subscriptionId);
      if (!current) return refuse("not sent: the subscription was deleted");
      return refuse(`not sent: the subscription is disabled${current.disabledReason ? ` (${current.disabledReason})` : ""}`);
    } catch (err) {
      if (err instanceof SecretUnreadableError) return refuse(`not sent: ${err.message}`);
      throw err;
    }
  };
}
