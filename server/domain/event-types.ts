// The event type catalog's model and rules: an entry per event name a tenant triggers, with what it
// means, an optional JSON Schema for its payload and an example. Pure. Schemas and examples are kept
// as JSON text, never as document keys (a schema's "$ref" and "$schema" are not valid field names in
// a MongoDB document), like messages' payloads.
import { createHash } from "node:crypto";
import { invalid } from "./errors.js";
import { encodePageToken } from "./ids.js";
import { isOperational, OPERATIONAL_PREFIX } from "./operational-events.js";
import { EVENT_NAME, validateEventName } from "./validation.js";

export interface EventType {
  tenant: string;
  /** As Trigger names the event: "order.created". Unique per tenant. */
  name: string;
  description: string;
  /** The JSON Schema as JSON text; absent when payloads are not checked. */
  schema?: string | undefined;
  /** schemaDigest(schema), kept beside it: Triggers find a compiled schema by it without reading the schema. */
  schemaDigest?: string | undefined;
  /** An example payload as JSON text; absent when there is none. */
  example?: string | undefined;
  createdAt: Date;
  updatedAt: Date;
}

/** What an update sets: the whole changeable state (absent fields are removed), so a stored schema and example always belong together. */
export type EventTypeFields = Pick<EventType, "description" | "schema" | "schemaDigest" | "example">;

/** An entry as answered: a tenant's own, or one of Hookwire's built-ins (which have no times). */
export interface CatalogEntry {
  name: string;
  description: string;
  schema?: string | undefined;
  example?: string | undefined;
  createdAt?: Date | undefined;
  updatedAt?: Date | undefined;
  builtin: boolean;
}

export const CATALOG_LIMITS = {
  /**
   * A schema's JSON text. Fixed rather than the payload limit: a compiled schema costs memory and
   * compile time in proportion to its size in every process that checks it, and real payload schemas
   * are a few KiB (the payload limit, 256 KiB by default, would allow schemas that take long to compile).
   */
  schemaBytes: 64 * 1024,
} as const;

/** The name of an event type a caller creates or changes: a concrete event name, not one of Hookwire's own. */
export function validateCatalogName(name: string, field = "name"): string {
  validateEventName(name, field);
  if (isOperational(name)) {
    throw invalid(field, `"${name.slice(0, 140)}": names starting with "${OPERATIONAL_PREFIX}" are Hookwire's built-in operational events and cannot be created, changed or deleted`);
  }
  return name;
}

/** Identifies a schema's text: equal texts share one compiled schema, in any tenant (a compiled schema depends on its text alone). */
export function schemaDigest(schemaJson: string): string {
  return createHash("sha256").update(schemaJson).digest("base64url");
}

/** Catalog pages are in name order: a token is the last name of the previous page (opaque to callers). */
export const encodeNameToken = encodePageToken;

export function decodeNameToken(token: string): string | undefined {
  if (token === "") return undefined;
  const name = Buffer.from(token, "base64url").toString("utf8");
  if (!EVENT_NAME.test(name)) throw invalid("page_token", "is not a token this list returned");
  return name;
}
