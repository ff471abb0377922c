// The event type catalog: each tenant's entries (with Hookwire's built-ins listed beside them), and the
// check of a Trigger's payload against its event's schema. Schemas and examples arrive and are kept as
// JSON text; an empty schema object ({}) and a null example mean none.
import { builtinEventType, BUILTIN_EVENT_TYPES } from "../domain/builtin-event-types.js";
import { DomainError, invalid, notFound } from "../domain/errors.js";
import { CATALOG_LIMITS, decodeNameToken, encodeNameToken, schemaDigest, validateCatalogName, type CatalogEntry } from "../domain/event-types.js";
import { SchemaError, type PayloadCheck } from "../domain/payload-schema.js";
import { pageSize, validateDescription, validateEventName } from "../domain/validation.js";
import type { EventType, EventTypeFields, EventTypes } from "../ports.js";
import type { CompiledSchemas } from "./compiled-schemas.js";
import type { Quotas } from "./quotas.js";

export interface CatalogDeps {
  store: EventTypes;
  quotas: Quotas;
  /** This process's compiled schemas, shared by every tenant. */
  schemas: CompiledSchemas;
  /** HOOKWIRE_MAX_PAYLOAD_BYTES: an example is a payload, and is held to the same limit. */
  maxPayloadBytes: number;
}

export interface CreateEventTypeInput {
  name: string;
  description: string;
  /** JSON text of an object; undefined when unset. */
  schema?: string | undefined;
  /** JSON text; undefined when unset. */
  example?: string | undefined;
}

/** Undefined fields keep their value. */
export interface UpdateEventTypeInput {
  description?: string | undefined;
  /** Replaces the schema; "{}" removes it. */
  schema?: string | undefined;
  /** Replaces the example; "null" removes it. */
  example?: string | undefined;
}

const entryOf = (doc: EventType): CatalogEntry => ({
  name: doc.name,
  description: doc.description,
  schema: doc.schema,
  example: doc.example,
  createdAt: doc.createdAt,
  updatedAt: doc.updatedAt,
  builtin: false,
});

function tooLarge(field: string, json: string, max: number): void {
  const size = Buffer.byteLength(json);
  if (size > max) throw new DomainError("exhausted", `${field}: ${size} bytes is over the limit of ${max} bytes`);
}

/** A schema as given: compiled (so a broken one is refused now, not at the next Trigger); undefined for none. */
function compiledSchema(deps: CatalogDeps, json: string): { schema: string; schemaDigest: string; check: PayloadCheck } | undefined {
  tooLarge("schema", json, CATALOG_LIMITS.schemaBytes);
  if (json === "{}") return undefined;
  const digest = schemaDigest(json);
  try {
    return { schema: json, schemaDigest: digest, check: deps.schemas.compile(json, digest) };
  } catch (err) {
    if (err instanceof SchemaError) throw invalid(`schema${err.path}`, err.message);
    throw err;
  }
}

/** An example as given; undefined for none. Checked against the schema it will be kept with. */
function checkedExample(deps: CatalogDeps, json: string, check: PayloadCheck | undefined): string | undefined {
  tooLarge("example", json, deps.maxPayloadBytes);
  if (json === "null") return undefined;
  const problem = check?.(JSON.parse(json));
  if (problem) throw invalid(`example${problem.path}`, `${problem.message} (the example must satisfy the schema)`);
  return json;
}

/** The check of a stored schema, compiled here if this process has not yet (or has dropped it). */
function storedCheck(deps: CatalogDeps, doc: Pick<EventType, "name" | "schema" | "schemaDigest">): PayloadCheck | undefined {
  if (doc.schema === undefined) return undefined;
  const digest = doc.schemaDigest ?? schemaDigest(doc.schema);
  try {
    return deps.schemas.compile(doc.schema, digest);
  } catch (err) {
    // Accepted once, so only a change of compiler (an upgrade) can get here.
    if (err instanceof SchemaError) {
      throw new DomainError("failed_precondition", `event: the schema of event type "${doc.name}" no longer compiles (schema${err.path}: ${err.message}); update it`);
    }
    throw err;
  }
}

export async function createEventType(deps: CatalogDeps, tenant: string, input: CreateEventTypeInput): Promise<CatalogEntry> {
  const name = validateCatalogName(input.name);
  const description = validateDescription(input.description);
  const schema = input.schema === undefined ? undefined : compiledSchema(deps, input.schema);
  const example = input.example === undefined ? undefined : checkedExample(deps, input.example, schema?.check);
  // Last, once the request is known good: one counter read by id.
  deps.quotas.checkEventTypes(tenant, await deps.store.count(tenant));
  const now = new Date();
  const doc: EventType = { tenant, name, description, schema: schema?.schema, schemaDigest: schema?.schemaDigest, example, createdAt: now, updatedAt: now };
  if (!(await deps.store.insert(doc))) throw new DomainError("already_exists", `name: event type "${name}" already exists (change it with UpdateEventType)`);
  return entryOf(doc);
}

export async function getEventType(deps: CatalogDeps, tenant: string, name: string): Promise<CatalogEntry> {
  validateEventName(name, "name");
  const builtin = builtinEventType(name);
  if (builtin) return builtin;
  const doc = await deps.store.get(tenant, name);
  if (!doc) throw notFound("name", "event type", name);
  return entryOf(doc);
}

/** The tenant's entries and the built-ins, merged in name order. */
export async function listEventTypes(deps: CatalogDeps, tenant: string, requestedPageSize: number, pageToken: string): Promise<{ eventTypes: CatalogEntry[]; nextPageToken: string }> {
  const size = pageSize(requestedPageSize);
  const after = decodeNameToken(pageToken);
  // One extra entry tells whether another page exists without a count.
  const own = (await deps.store.list(tenant, after, size + 1)).map(entryOf);
  const builtins = BUILTIN_EVENT_TYPES.filter((b) => after === undefined || b.name > after);
  const merged = [...own, ...builtins].sort((a, b) => (a.name < b.name ? -1 : 1)).slice(0, size + 1);
  const page = merged.slice(0, size);
  const last = page[page.length - 1];
  return { eventTypes: page, nextPageToken: merged.length > size && last ? encodeNameToken(last.name) : "" };
}

/** A name Update and Delete may act on: a tenant's own, never a built-in. */
function changeableName(name: string, action: string): string {
  validateEventName(name, "name");
  if (builtinEventType(name)) throw new DomainError("failed_precondition", `name: "${name}" is one of Hookwire's built-in event types, which cannot be ${action}`);
  return validateCatalogName(name);
}

export async function updateEventType(deps: CatalogDeps, tenant: string, name: string, input: UpdateEventTypeInput): Promise<CatalogEntry> {
  changeableName(name, "changed");
  const description = input.description === undefined ? undefined : validateDescription(input.description);
  const newSchema = input.schema === undefined ? undefined : compiledSchema(deps, input.schema);
  const current = await deps.store.get(tenant, name);
  if (!current) throw notFound("name", "event type", name);
  const schema = input.schema === undefined ? current : (newSchema ?? { schema: undefined, schemaDigest: undefined });
  const fields: EventTypeFields = { description: description ?? current.description, schema: schema.schema, schemaDigest: schema.schemaDigest, example: current.example };
  if (input.example !== undefined) {
    fields.example = checkedExample(deps, input.example, input.schema !== undefined ? newSchema?.check : storedCheck(deps, current));
  } else if (newSchema && current.example !== undefined) {
    // The kept example must satisfy the new schema: a test event would otherwise send what Triggers may not.
    const problem = newSchema.check(JSON.parse(current.example));
    if (problem) throw invalid("schema", `the event type's example fails it at example${problem.path}: ${problem.message}; change the example in the same call`);
  }
  // The whole state is written at once, so a schema and the example checked against it are stored together.
  const doc = await deps.store.update(tenant, name, fields, new Date());
  if (!doc) throw notFound("name", "event type", name);
  return entryOf(doc);
}

export async function deleteEventType(deps: CatalogDeps, tenant: string, name: string): Promise<void> {
  changeableName(name, "deleted");
  if (!(await deps.store.delete(tenant, name))) throw notFound("name", "event type", name);
}

/**
 * Before a Trigger is stored: its payload (JSON text) against its event's schema, when the tenant's
 * catalog has one; refused naming the failing place. An event without an entry costs no store read
 * (EventTypes.schemaDigest), and a schema compiled before costs no compile.
 */
export async function checkPayload(deps: CatalogDeps, tenant: string, event: string, payloadJson: string): Promise<void> {
  const digest = await deps.store.schemaDigest(tenant, event);
  if (digest === undefined) return;
  let check = deps.schemas.get(digest);
  if (!check) {
    // This process has not compiled it yet (or dropped it): the entry as it is now.
    const doc = await deps.store.get(tenant, event);
    check = doc ? storedCheck(deps, doc) : undefined;
    if (!check) return;
  }
  const problem = check(JSON.parse(payloadJson));
  if (problem) throw invalid(`payload${problem.path}`, `${problem.message} (the schema of event type "${event}")`);
}
