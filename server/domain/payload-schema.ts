// JSON Schemas for event payloads: compiling a tenant's schema (Ajv), and checking a payload against
// it with the failing place named. Pure (no I/O): compilation generates code in this process.
//
// Draft 2020-12, the current one (OpenAPI 3.1's), unless the schema's "$schema" names draft-07, which
// many existing schemas (and other webhook services' catalogs) are written in. As the specification
// says, keywords a draft does not know are ignored ("x-…", "example"), so a schema written for another
// tool still compiles; a known keyword with a wrong value is refused. Formats (date-time, email, uri,
// uuid, …) are checked (ajv-formats); unknown formats are ignored.
//
// A tenant's schema is untrusted input compiled in a process every tenant shares, so:
//   - "$ref"s resolve only inside the schema: nothing is ever fetched, and a schema's "$id" is not kept
//     by the compiler (two tenants' schemas may carry the same "$id");
//   - "pattern" and "patternProperties" regular expressions with nested repetition, which can take
//     exponential time on a crafted payload (ReDoS), are refused when the schema is compiled;
//   - the size and depth are bounded by the caller (CATALOG_LIMITS in event-types.ts, the payload depth limit);
//   - "uniqueItems" on items that may be objects or arrays compares every pair (quadratic in the array's
//     length), so it needs a "maxItems" of at most MAX_UNIQUE_ITEMS; on scalar items it is a hash check;
//   - only the first error is looked for (allErrors would walk the whole payload).
import { Ajv, type AnySchema, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import safeRegex from "safe-regex2";

/** A schema that cannot be used; `path` is a JSON Pointer into the schema ("" for the whole schema). */
export class SchemaError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = "SchemaError";
  }
}

/** Why a payload fails its schema: where (a JSON Pointer into the payload, "" for the whole) and what. */
export interface PayloadProblem {
  path: string;
  message: string;
}

/** Checks one parsed payload; answers the first problem, or undefined when it satisfies the schema. */
export type PayloadCheck = (payload: unknown) => PayloadProblem | undefined;

const DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema";
const DRAFT_07 = "http://json-schema.org/draft-07/schema";

class UnsafePattern extends Error {}

/** Refuses a regular expression with nested repetition (star height above 1, or very many repetitions). */
function safeRegExp(pattern: string, flags: string): RegExp {
  // First as written, so a pattern that is not a regular expression is refused for that (a SyntaxError).
  const re = new RegExp(pattern, flags);
  if (!safeRegex(pattern)) {
    throw new UnsafePattern(`pattern ${JSON.stringify(pattern.slice(0, 100))} has nested repetition (e.g. "(a+)+") or more than 25 repetitions, which can take exponential time on some payloads; write it without a repeated group that itself repeats`);
  }
  return re;
}
// Ajv calls it while compiling and, since it is not `new RegExp`, embeds the RegExp it made rather than its source.
safeRegExp.code = "safeRegExp";

function compiler(kind: "2020-12" | "draft-07"): Ajv {
  const options = { strict: false, logger: false as const, addUsedSchema: false, allErrors: false, code: { regExp: safeRegExp } } as const;
  const ajv = kind === "2020-12" ? new Ajv2020(options) : new Ajv(options);
  formats.default(ajv);
  return ajv;
}

/** Made on first use: each compiles its meta-schema, a few milliseconds. */
const compilers = new Map<string, Ajv>();
function compilerFor(kind: "2020-12" | "draft-07"): Ajv {
  let ajv = compilers.get(kind);
  if (!ajv) compilers.set(kind, (ajv = compiler(kind)));
  return ajv;
}

/** The draft a schema's "$schema" names (either URI form, with or without the empty fragment). */
function draftOf(schema: Record<string, unknown>): "2020-12" | "draft-07" {
  const declared = schema.$schema;
  if (declared === undefined) return "2020-12";
  const uri = typeof declared === "string" ? declared.replace(/#$/, "").replace(/^http:/, "https:") : "";
  if (uri === DRAFT_2020_12) return "2020-12";
  if (uri === DRAFT_07.replace(/^http:/, "https:")) return "draft-07";
  throw new SchemaError("/$schema", `${JSON.stringify(declared).slice(0, 100)} is not a supported draft: use "${DRAFT_2020_12}" (the default) or "${DRAFT_07}#"`);
}

/** The most items a pairwise "uniqueItems" check may compare (about 500,000 comparisons). */
export const MAX_UNIQUE_ITEMS = 1000;

/** Keywords whose value maps names to schemas; their own keys are names, not keywords. */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"]);
/** Keywords whose value is data, not schemas. */
const DATA = new Set(["enum", "const", "default", "examples", "example"]);
const SCALAR = new Set(["string", "number", "integer", "boolean", "null"]);

const pointer = (key: string) => `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;

/** Refuses a "uniqueItems" whose check could be quadratic in an unbounded array (see the module's notes). */
function checkUniqueItems(node: unknown, path: string, isMap = false): void {
  if (typeof node !== "object" || node === null) return;
  if (Array.isArray(node)) {
    node.forEach((item, i) => checkUniqueItems(item, `${path}/${i}`));
    return;
  }
  const schema = node as Record<string, unknown>;
  if (!isMap && schema.uniqueItems === true) {
    const items = schema.items as Record<string, unknown> | undefined;
    const types = items && typeof items === "object" && !Array.isArray(items) ? [items.type].flat() : [];
    const scalar = types.length > 0 && types.every((t) => typeof t === "string" && SCALAR.has(t));
    const max = schema.maxItems;
    if (!scalar && !(typeof max === "number" && max <= MAX_UNIQUE_ITEMS)) {
      throw new SchemaError(`${path}/uniqueItems`, `compares every pair of items unless they are bounded: add "maxItems" of at most ${MAX_UNIQUE_ITEMS}, or give "items" a scalar "type"`);
    }
  }
  for (const [key, value] of Object.entries(schema)) {
    if (isMap || !DATA.has(key)) checkUniqueItems(value, path + pointer(key), !isMap && SCHEMA_MAPS.has(key));
  }
}

/** What an Ajv error says, with the detail its message leaves in params. */
function describe(e: ErrorObject): string {
  const message = e.message ?? `fails "${e.keyword}"`;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties":
    case "unevaluatedProperties":
      return `${message}: ${JSON.stringify(p.additionalProperty ?? p.unevaluatedProperty)}`;
    case "enum":
      return `${message}: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ").slice(0, 200)}`;
    case "const":
      return `${message}: ${JSON.stringify(p.allowedValue).slice(0, 200)}`;
    default:
      return message;
  }
}

const problemOf = (e: ErrorObject): PayloadProblem => ({ path: e.instancePath, message: describe(e) });

/**
 * Compiles a schema (a parsed JSON object); throws SchemaError naming what is wrong with it. The answer
 * holds everything it needs: the compiler keeps nothing of the schema afterwards, so compiling many
 * schemas over a process's life does not grow it.
 */
export function compilePayloadSchema(schema: Record<string, unknown>): PayloadCheck {
  const ajv = compilerFor(draftOf(schema));
  if (!ajv.validateSchema(schema as AnySchema)) {
    // The meta-schema's first complaint, at its place in the schema ("/properties/price/type").
    const first = ajv.errors?.[0];
    throw new SchemaError(first?.instancePath ?? "", first ? describe(first) : "is not a valid JSON Schema");
  }
  checkUniqueItems(schema, "");
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema as AnySchema);
  } catch (err) {
    if (err instanceof UnsafePattern) throw new SchemaError("", err.message);
    const message = (err as Error).message;
    // Ajv's wording for a reference it cannot follow: "can't resolve reference X from id Y".
    const ref = /can't resolve reference (.*) from id/.exec(message);
    if (ref) throw new SchemaError("", `"$ref" ${JSON.stringify(ref[1])} does not resolve inside the schema (references to other documents are not fetched; put the definition under "$defs")`);
    throw new SchemaError("", message);
  } finally {
    // Its compiled form stays with `validate`; the compiler's own cache of it would grow for ever.
    ajv.removeSchema(schema as AnySchema);
  }
  return (payload) => (validate(payload) ? undefined : problemOf(validate.errors![0]!));
}
