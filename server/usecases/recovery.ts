// RecoverDeliveries: every failed delivery of a subscription created since a time is redelivered
// (as Redeliver does, one implementation in messages.ts), at most `limit` a call, resumable with the
// answered token, and each failed delivery at most once however often the range is recovered.
import { invalid, notFound } from "../domain/errors.js";
import { idFloor } from "../domain/ids.js";
import { redeliveriesOf, startRedeliveries, type MessageDeps } from "./messages.js";
import type { Delivery } from "../ports.js";
import { validateId } from "../domain/validation.js";

export const RECOVER_LIMITS = { default: 100, max: 1000 } as const;

export interface RecoverInput {
  subscriptionId: string;
  since: Date | undefined;
  /** 0 for the default. */
  limit: number;
  pageToken: string;
}

/**
 * Where a recovery stands: the last delivery it looked at, and the time its first call started. Its
 * range ends there, so the redeliveries it makes (and any that fail in turn) are never part of it and
 * a walk to the end ends, even while the endpoint keeps failing.
 */
interface Progress {
  afterId: string;
  untilMs: number;
}

const TOKEN = /^(sub_[0-9a-z]+)\.(dlv_[0-9a-z]+)\.([0-9a-z]{1,12})$/;

function encodeToken(subscriptionId: string, p: Progress): string {
  return Buffer.from(`${subscriptionId}.${p.afterId}.${p.untilMs.toString(36)}`, "utf8").toString("base64url");
}

function decodeToken(token: string, subscriptionId: string): Progress | undefined {
  if (token === "") return undefined;
  const m = TOKEN.exec(Buffer.from(token, "base64url").toString("utf8"));
  if (!m) throw invalid("page_token", "is not a token RecoverDeliveries returned");
  if (m[1] !== subscriptionId) throw invalid("page_token", "belongs to the recovery of another subscription");
  return { afterId: m[2]!, untilMs: parseInt(m[3]!, 36) };
}

function recoverLimit(limit: number): number {
  if (limit === 0) return RECOVER_LIMITS.default;
  if (!Number.isInteger(limit) || limit < 1 || limit > RECOVER_LIMITS.max) throw invalid("limit", `must be between 1 and ${RECOVER_LIMITS.max} (0 for ${RECOVER_LIMITS.default})`);
  return limit;
}

export async function recoverDeliveries(
  deps: MessageDeps,
  tenant: string,
  input: RecoverInput,
): Promise<{ deliveries: Delivery[]; nextPageToken: string }> {
  const subscriptionId = validateId(input.subscriptionId, "sub", "subscription_id");
  const now = Date.now();
  const since = input.since;
  if (!since || Number.isNaN(since.getTime())) throw invalid("since", "is required: failed deliveries created at or after it are redelivered");
  if (since.getTime() > now) throw invalid("since", "is in the future");
  const limit = recoverLimit(input.limit);
  const progress = decodeToken(input.pageToken, subscriptionId);
  const sub = await deps.subscriptions.get(tenant, subscriptionId);
  if (!sub) throw notFound("subscription_id", "subscription", subscriptionId);

  const untilMs = progress?.untilMs ?? now;
  // Ids start with their creation time, and an id's time is never before its createdAt: the range by id
  // holds every delivery created since, and a page reads only its own rows (an index walk on both layouts).
  const floor = idFloor("dlv", since.getTime());
  const afterId = progress && progress.afterId > floor ? progress.afterId : floor;
  const fetched = await deps.log.list({ tenant, subscriptionId, status: "failed", afterId, beforeId: idFloor("dlv", untilMs), limit: limit + 1 });
  const page = fetched.slice(0, limit);
  const inRange = page.filter((d) => d.createdAt.getTime() >= since.getTime());
  // A message removed meanwhile (retention) has nothing left to deliver; bodies are not read here.
  const stored = await deps.messages.existing(inRange.map((d) => d.messageId));
  const docs = redeliveriesOf(deps, sub, inRange.filter((d) => stored.has(d.messageId)));
  // Marked first: of two calls over the same deliveries only one makes each redelivery. A store error
  // after takes the marks back; a process that dies between the two leaves those few marked without one.
  const marked = await deps.recoveries.mark(tenant, docs.map((d) => ({ original: d.redeliveryOf!, redelivery: d._id })));
  const fresh = docs.filter((d) => marked.has(d.redeliveryOf!));
  try {
    await startRedeliveries(deps, fresh);
  } catch (err) {
    await deps.recoveries.unmark(fresh.map((d) => d.redeliveryOf!)).catch(() => undefined);
    throw err;
  }
  const last = page.at(-1);
  return { deliveries: fresh, nextPageToken: fetched.length > limit && last ? encodeToken(subscriptionId, { afterId: last._id, untilMs }) : "" };
}
