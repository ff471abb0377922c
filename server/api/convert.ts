// Domain documents as protobuf messages.
import { create } from "@bufbuild/protobuf";
import type { JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate, type Timestamp, type Value } from "@bufbuild/protobuf/wkt";
import {
  DeliverySchema,
  DeliveryStatus,
  ListOrder,
  EventTypeSchema,
  MessageSchema,
  PortalColorScheme,
  PortalThemeSchema,
  type Delivery as DeliveryProto,
  type EventType as EventTypeProto,
  type Message as MessageProto,
  type PortalTheme as PortalThemeProto,
} from "@hookwire/sdk/proto";
import { PayloadError, valueFromJson, valueToJsonText } from "@hookwire/sdk/internal";
import { invalid } from "../domain/errors.js";
import type { CatalogEntry } from "../domain/event-types.js";
import { NO_THEME, type PortalColorScheme as ColorScheme, type PortalTheme } from "../domain/portal.js";
import { LIMITS } from "../domain/validation.js";
import type { Delivery, DeliveryState, Message } from "../ports.js";
import { SubscriptionSchema, type Subscription } from "@hookwire/sdk/proto";
import type { DeliveryDefaults } from "../domain/policy.js";
import type { SubscriptionHealth, SubscriptionView } from "../ports.js";
import { RECENT_WINDOW_HOURS } from "../domain/model.js";
import { withDefaults } from "../domain/policy.js";
import { answeredHeaders } from "../domain/endpoint-headers.js";

/** `headerValues`: whether the extra headers' values are answered ("plain", GetSubscription's) or masked. */
export function subscriptionToProto(doc: SubscriptionView, defaults: DeliveryDefaults, headerValues: "plain" | "masked"): Subscription {
  const policy = withDefaults(doc.policy, defaults);
  return create(SubscriptionSchema, {
    id: doc._id,
    url: doc.url,
    events: doc.events,
    description: doc.description,
    createdAt: timestampFromDate(doc.createdAt),
    updatedAt: timestampFromDate(doc.updatedAt),
    disabled: doc.disabled,
    disabledReason: doc.disabledReason,
    retries: policy.retries,
    retryDelayMs: policy.retryDelayMs,
    timeoutMs: policy.timeoutMs,
    health: healthToProto(doc.health),
    owner: doc.owner,
    headers: answeredHeaders(doc.headers, headerValues === "plain"),
    rateLimitPerSecond: doc.rateLimitPerSecond ?? 0,
  });
}

function healthToProto(h: SubscriptionHealth) {
  const at = (d: Date | undefined) => (d ? timestampFromDate(d) : undefined);
  return {
    attemptsSucceeded: BigInt(h.attemptsSucceeded),
    attemptsFailed: BigInt(h.attemptsFailed),
    lastSuccessAt: at(h.lastSuccessAt),
    lastFailureAt: at(h.lastFailureAt),
    lastError: h.lastError,
    failingSince: at(h.failingSince),
    consecutiveFailures: BigInt(h.consecutiveFailures),
    recentDeliveriesSucceeded: BigInt(h.recentDeliveriesSucceeded ?? 0),
    recentDeliveriesFailed: BigInt(h.recentDeliveriesFailed ?? 0),
    recentWindowHours: RECENT_WINDOW_HOURS,
  };
}

const STATUS_TO_PROTO: Record<DeliveryState, DeliveryStatus> = {
  pending: DeliveryStatus.PENDING,
  delivered: DeliveryStatus.DELIVERED,
  failed: DeliveryStatus.FAILED,
};

export function deliveryStateFromProto(status: DeliveryStatus): DeliveryState | undefined {
  switch (status) {
    case DeliveryStatus.UNSPECIFIED:
      return undefined;
    case DeliveryStatus.PENDING:
      return "pending";
    case DeliveryStatus.DELIVERED:
      return "delivered";
    case DeliveryStatus.FAILED:
      return "failed";
    default:
      throw invalid("status", `${status} is not a known delivery status`);
  }
}

/** Whether a list is asked for newest first (ListOrder; unspecified is oldest first). */
export function newestFirstFromProto(order: ListOrder): boolean {
  switch (order) {
    case ListOrder.UNSPECIFIED:
    case ListOrder.OLDEST_FIRST:
      return false;
    case ListOrder.NEWEST_FIRST:
      return true;
    default:
      throw invalid("order", `${order} is not a known list order`);
  }
}

export function deliveryToProto(doc: Delivery): DeliveryProto {
  return create(DeliverySchema, {
    id: doc._id,
    messageId: doc.messageId,
    subscriptionId: doc.subscriptionId,
    url: doc.url,
    event: doc.event,
    status: STATUS_TO_PROTO[doc.status],
    attempts: doc.attempts.map((a) => ({
      attemptedAt: timestampFromDate(a.at),
      durationMs: BigInt(a.durationMs),
      statusCode: a.statusCode,
      responseExcerpt: a.excerpt,
      error: a.error,
    })),
    createdAt: timestampFromDate(doc.createdAt),
    updatedAt: timestampFromDate(doc.updatedAt),
    nextAttemptAt: doc.status === "pending" ? timestampFromDate(doc.nextAttemptAt) : undefined,
    redeliveryOf: doc.redeliveryOf ?? "",
    redeliveredAs: doc.redeliveredAs ?? "",
    owner: doc.owner ?? "",
  });
}

export function messageToProto(doc: Message): MessageProto {
  // JSON.parse keeps a "__proto__" key as an own property, which valueFromJson carries over.
  const env = JSON.parse(doc.body) as { payload: unknown; timestamp: string };
  return create(MessageSchema, {
    id: doc._id,
    event: doc.event,
    payload: valueFromJson(env.payload),
    timestamp: env.timestamp,
    createdAt: timestampFromDate(doc.createdAt),
    idempotencyKey: doc.idempotencyKey,
    deliveries: doc.deliveries,
    owner: doc.owner ?? "",
    allOwners: doc.allOwners ?? false,
  });
}

/**
 * A request's payload as the JSON text every delivery carries (an unset payload is null), within the
 * nesting limit every protocol can decode and read back. `field`: the request field it came in.
 */
export function payloadFromProto(value: Value | undefined, field = "payload"): string {
  try {
    return valueToJsonText(value, { maxDepth: LIMITS.payloadDepth });
  } catch (err) {
    if (err instanceof PayloadError) throw invalid(field, err.message);
    throw err;
  }
}

/**
 * A request's Struct (which protobuf-es hands over as a plain object: a JSON Schema, SendTestEvent's
 * payload) as JSON text, within the payload limits; undefined when unset.
 */
export function structFromProto(struct: JsonObject | undefined, field: string): string | undefined {
  if (struct === undefined) return undefined;
  try {
    valueFromJson(struct, { maxDepth: LIMITS.payloadDepth });
  } catch (err) {
    if (err instanceof PayloadError) throw invalid(field, err.message);
    throw err;
  }
  return JSON.stringify(struct);
}

/** A request's JSON Schema as JSON text, within the payload limits; undefined when unset. */
export function schemaFromProto(schema: JsonObject | undefined, field = "schema"): string | undefined {
  return structFromProto(schema, field);
}

const SCHEME_FROM_PROTO: Record<number, ColorScheme | undefined> = {
  [PortalColorScheme.UNSPECIFIED]: "",
  [PortalColorScheme.LIGHT]: "light",
  [PortalColorScheme.DARK]: "dark",
};

/** A session request's theme (unset: the defaults); an unknown colour scheme is refused by name. */
export function themeFromProto(theme: PortalThemeProto | undefined, field = "theme"): PortalTheme {
  if (!theme) return { ...NO_THEME };
  const colorScheme = SCHEME_FROM_PROTO[theme.colorScheme];
  if (colorScheme === undefined) throw invalid(`${field}.color_scheme`, `${theme.colorScheme} is not a known colour scheme`);
  return { accentColor: theme.accentColor, logoUrl: theme.logoUrl, colorScheme, title: theme.title };
}

export function themeToProto(theme: PortalTheme): PortalThemeProto {
  const colorScheme = theme.colorScheme === "light" ? PortalColorScheme.LIGHT : theme.colorScheme === "dark" ? PortalColorScheme.DARK : PortalColorScheme.UNSPECIFIED;
  return create(PortalThemeSchema, { accentColor: theme.accentColor, logoUrl: theme.logoUrl, colorScheme, title: theme.title });
}

/** A catalog entry as answered: the schema and example as JSON again, a built-in without times. */
export function eventTypeToProto(entry: CatalogEntry): EventTypeProto {
  return create(EventTypeSchema, {
    name: entry.name,
    description: entry.description,
    // JSON.parse keeps a "__proto__" key as an own property, which the encoder writes.
    schema: entry.schema === undefined ? undefined : (JSON.parse(entry.schema) as JsonObject),
    example: entry.example === undefined ? undefined : valueFromJson(JSON.parse(entry.example)),
    createdAt: entry.createdAt && timestampFromDate(entry.createdAt),
    updatedAt: entry.updatedAt && timestampFromDate(entry.updatedAt),
    builtin: entry.builtin,
  });
}

/** A request's Timestamp as a Date; undefined when unset, refused (naming the field) when out of range. */
export function dateFromProto(ts: Timestamp | undefined, field: string): Date | undefined {
  if (!ts) return undefined;
  const ms = Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6);
  const date = new Date(ms);
  if (ts.nanos < 0 || ts.nanos > 999_999_999 || Number.isNaN(date.getTime())) throw invalid(field, "is not a valid time");
  return date;
}
