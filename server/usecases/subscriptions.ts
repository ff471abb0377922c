// Subscription use cases: validation rules applied, then one store call each.
import { generateSecret } from "@hookwire/sdk/internal";
import { invalid, notFound } from "../domain/errors.js";
import { decodePageToken, encodePageToken, newId } from "../domain/ids.js";
import { NO_HEALTH, type DeliveryQueue, type HealthLog, type PreviousSecret, type Subscription, type SubscriptionChanges, type Subscriptions, type SubscriptionView } from "../ports.js";
import { activePreviousSecrets } from "../domain/model.js";
import type { DeliveryDefaults } from "../domain/policy.js";
import type { EgressAllowList } from "../domain/egress.js";
import { validatePolicy, type PolicyOverrides } from "../domain/policy.js";
import type { Quotas } from "./quotas.js";
import { validateHeaders } from "../domain/endpoint-headers.js";
import { validateRateLimit } from "../domain/endpoint-rate.js";
import {
  pageSize,
  validateDescription,
  validateEventFilters,
  validateId,
  validateOwner,
  validateSecret,
  validateUrl,
} from "../domain/validation.js";

export interface SubscriptionDeps {
  store: Subscriptions;
  queue: DeliveryQueue;
  health: HealthLog;
  allowPrivateUrls: boolean;
  /** HOOKWIRE_EGRESS_ALLOW (egress.ts). */
  egressAllow?: EgressAllowList;
  delivery: DeliveryDefaults;
  quotas: Quotas;
}

export interface RegisterInput extends PolicyOverrides {
  url: string;
  events: readonly string[];
  secret: string;
  description: string;
  /** The platform's customer it is for; "" for the tenant's own. */
  owner: string;
  /** Extra request headers (the request's map); none when empty. */
  headers: Readonly<Record<string, string>>;
  /** Attempts a second at most; 0 for no limit. */
  rateLimitPerSecond: number;
}

export async function registerSubscription(
  deps: SubscriptionDeps,
  tenant: string,
  input: RegisterInput,
): Promise<{ subscription: SubscriptionView; secret: string }> {
  const url = validateUrl(input.url, deps.allowPrivateUrls, "url", deps.egressAllow);
  deps.quotas.checkEventPatterns(input.events.length);
  const events = validateEventFilters(input.events);
  const secret = input.secret === "" ? generateSecret() : validateSecret(input.secret);
  const description = validateDescription(input.description);
  const policy = validatePolicy(input);
  const owner = validateOwner(input.owner);
  const headers = validateHeaders(input.headers);
  const rateLimitPerSecond = validateRateLimit(input.rateLimitPerSecond);
  // Last, once the request is known good: counter reads by id (see Subscriptions.count).
  deps.quotas.checkSubscriptions(tenant, await deps.store.count(tenant));
  if (owner !== "") deps.quotas.checkOwnerSubscriptions(owner, await deps.store.count(tenant, owner));
  const now = new Date();
  const doc: Subscription = {
    _id: newId("sub"),
    tenant,
    owner,
    url,
    events,
    secret,
    description,
    createdAt: now,
    updatedAt: now,
    disabled: false,
    disabledReason: "",
    policy,
    // Absent rather than empty or 0: stored as subscriptions were before these settings.
    ...(headers.length > 0 ? { headers } : {}),
    ...(rateLimitPerSecond > 0 ? { rateLimitPerSecond } : {}),
  };
  await deps.store.insert(doc);
  return { subscription: { ...doc, health: NO_HEALTH }, secret };
}

/** Subscriptions as answered: each with its health (none recorded yet: all zero). */
async function withHealth(deps: SubscriptionDeps, tenant: string, docs: Subscription[]): Promise<SubscriptionView[]> {
  const health = docs.length === 0 ? new Map() : await deps.health.get(tenant, docs.map((d) => d._id));
  return docs.map((d) => ({ ...d, health: health.get(d._id) ?? NO_HEALTH }));
}

/** Without its health, for checks. `field` names the request field that carried the id, for the error message. */
export async function findSubscription(deps: Pick<SubscriptionDeps, "store">, tenant: string, id: string, field = "id"): Promise<Subscription> {
  validateId(id, "sub", field);
  const doc = await deps.store.get(tenant, id);
  if (!doc) throw notFound(field, "subscription", id);
  return doc;
}

/** `field` names the request field that carried the id, for the error message. */
export async function getSubscription(deps: SubscriptionDeps, tenant: string, id: string, field = "id"): Promise<SubscriptionView> {
  const [view] = await withHealth(deps, tenant, [await findSubscription(deps, tenant, id, field)]);
  return view!;
}

/** `owner`: only that owner's subscriptions when set (an index walk), every one of the tenant's when empty. */
export async function listSubscriptions(
  deps: SubscriptionDeps,
  tenant: string,
  requestedPageSize: number,
  pageToken: string,
  owner = "",
  newestFirst = false,
): Promise<{ subscriptions: SubscriptionView[]; nextPageToken: string }> {
  const size = pageSize(requestedPageSize);
  const after = decodePageToken(pageToken, "sub");
  validateOwner(owner);
  // One extra subscription tells whether another page exists without a count query.
  const fetched = await deps.store.list(tenant, after, size + 1, owner === "" ? undefined : owner, newestFirst);
  const page = fetched.slice(0, size);
  const last = page[page.length - 1];
  return { subscriptions: await withHealth(deps, tenant, page), nextPageToken: fetched.length > size && last ? encodePageToken(last._id) : "" };
}

export interface UpdateInput extends PolicyOverrides {
  url?: string | undefined;
  events: readonly string[];
  description?: string | undefined;
  disabled?: boolean | undefined;
  /** Replaces every extra header when not empty. */
  headers: Readonly<Record<string, string>>;
  /** Removes every extra header (headers must then be empty). */
  clearHeaders: boolean;
  rateLimitPerSecond?: number | undefined;
}

export async function updateSubscription(
  deps: SubscriptionDeps,
  tenant: string,
  id: string,
  input: UpdateInput,
): Promise<SubscriptionView> {
  validateId(id, "sub");
  const changes: SubscriptionChanges = {};
  if (input.url !== undefined) changes.url = validateUrl(input.url, deps.allowPrivateUrls, "url", deps.egressAllow);
  if (input.events.length > 0) {
    deps.quotas.checkEventPatterns(input.events.length);
    changes.events = validateEventFilters(input.events);
  }
  if (input.description !== undefined) changes.description = validateDescription(input.description);
  const replacing = Object.keys(input.headers).length > 0;
  if (input.clearHeaders && replacing) throw invalid("clear_headers", "cannot be combined with headers (headers alone replaces them all)");
  if (input.clearHeaders) changes.headers = [];
  else if (replacing) changes.headers = validateHeaders(input.headers);
  if (input.rateLimitPerSecond !== undefined) changes.rateLimitPerSecond = validateRateLimit(input.rateLimitPerSecond);
  const policy = validatePolicy(input);
  if (Object.keys(policy).length > 0) {
    const current = await findSubscription(deps, tenant, id);
    changes.policy = { ...current.policy, ...policy };
  }
  if (input.disabled !== undefined) {
    changes.disabled = input.disabled;
    changes.disabledReason = input.disabled ? "disabled by caller" : "";
  }
  const doc = await deps.store.update(tenant, id, changes, new Date());
  if (!doc) throw notFound("id", "subscription", id);
  // Re-enabling starts the failing streak anew, so the disabling rule gives the endpoint its full period again.
  if (input.disabled === false) await deps.health.restartStreak(tenant, id);
  return (await withHealth(deps, tenant, [doc]))[0]!;
}

export const PREVIOUS_SECRET_TTL = { defaultSeconds: 86_400, maxSeconds: 604_800 } as const;

/** A new secret; the one it replaces keeps signing beside it until ttlSeconds have passed. */
export async function rotateSecret(
  deps: SubscriptionDeps,
  tenant: string,
  id: string,
  input: { secret: string; previousSecretTtlSeconds: bigint },
): Promise<{ subscription: SubscriptionView; secret: string }> {
  validateId(id, "sub");
  const ttl = input.previousSecretTtlSeconds;
  if (ttl < 0n || ttl > BigInt(PREVIOUS_SECRET_TTL.maxSeconds)) {
    throw invalid("previous_secret_ttl_seconds", `${ttl} is outside 0..${PREVIOUS_SECRET_TTL.maxSeconds}`);
  }
  const secret = input.secret === "" ? generateSecret() : validateSecret(input.secret);
  const current = await findSubscription(deps, tenant, id);
  const now = new Date();
  const expiresAt = new Date(now.getTime() + Number(ttl === 0n ? BigInt(PREVIOUS_SECRET_TTL.defaultSeconds) : ttl) * 1000);
  const previousSecrets = [{ secret: current.secret, expiresAt }, ...activePreviousSecrets(current, now)];
  const doc = await deps.store.update(tenant, id, { secret, previousSecrets }, now);
  if (!doc) throw notFound("id", "subscription", id);
  return { subscription: (await withHealth(deps, tenant, [doc]))[0]!, secret };
}

export async function deleteSubscription(deps: SubscriptionDeps, tenant: string, id: string): Promise<void> {
  validateId(id, "sub");
  if (!(await deps.store.delete(tenant, id))) throw notFound("id", "subscription", id);
  await Promise.all([deps.queue.dropForSubscription(tenant, id), deps.health.drop(tenant, id)]);
}

/**
 * Which outcomes a WatchDeliveries stream follows, checked: an unknown (or another tenant's, or another
 * owner's) subscription is an error at once rather than a stream that stays silent.
 */
export async function watchScope(deps: SubscriptionDeps, tenant: string, subscriptionId: string, owner: string): Promise<{ subscriptionId: string; owner: string }> {
  validateOwner(owner);
  if (subscriptionId) {
    const sub = await findSubscription(deps, tenant, subscriptionId, "subscription_id");
    if (owner && sub.owner !== owner) throw notFound("subscription_id", "subscription", subscriptionId);
  }
  return { subscriptionId, owner };
}
