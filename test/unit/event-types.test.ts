// The event type catalog's pure parts: compiling a tenant's JSON Schema and naming where a payload
// fails it, the bounded cache of compiled schemas, the built-in entries, names and page tokens, and
// the store's _ids keeping names in order.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUILTIN_EVENT_TYPES, builtinEventType } from "../../server/domain/builtin-event-types.js";
import { decodeNameToken, encodeNameToken, schemaDigest, validateCatalogName } from "../../server/domain/event-types.js";
import { DELIVERY_EXHAUSTED, ENDPOINT_DISABLED } from "../../server/domain/operational-events.js";
import { compilePayloadSchema, SchemaError } from "../../server/domain/payload-schema.js";
import { EVENT_NAME } from "../../server/domain/validation.js";
import { eventTypeId } from "../../server/store/common/event-types.js";
import { CompiledSchemas } from "../../server/usecases/compiled-schemas.js";

const ORDER = {
  type: "object",
  properties: {
    id: { type: "string", format: "uuid" },
    status: { enum: ["open", "paid"] },
    items: {
      type: "array",
      items: { type: "object", properties: { price: { type: "number" }, sku: { type: "string", pattern: "^[A-Z]{3}-\\d+$" } }, required: ["price"], additionalProperties: false },
    },
  },
  required: ["id"],
};

/** The SchemaError a schema is refused with. */
function refusal(schema: Record<string, unknown>): SchemaError {
  try {
    compilePayloadSchema(schema);
  } catch (err) {
    if (err instanceof SchemaError) return err;
    throw err;
  }
  throw new Error("expected the schema to be refused");
}

describe("a payload schema", () => {
  const check = compilePayloadSchema(ORDER);
  const id = "0b7c5f6e-3f1a-4c2b-9d8e-1a2b3c4d5e6f";

  it("accepts a payload that satisfies it", () => {
    expect(check({ id, status: "paid", items: [{ price: 3.5, sku: "ABC-12" }] })).toBeUndefined();
  });

  it.each([
    [{ id, items: [{ price: "3.50" }] }, "/items/0/price", "must be number"],
    [{ id, items: [{ price: 1 }, {}] }, "/items/1", "must have required property 'price'"],
    [{ id, items: [{ price: 1, colour: "red" }] }, "/items/0", 'must NOT have additional properties: "colour"'],
    [{ id, status: "lost" }, "/status", 'must be equal to one of the allowed values: "open", "paid"'],
    [{ id: "nope" }, "/id", 'must match format "uuid"'],
    [{ id, items: [{ price: 1, sku: "abc" }] }, "/items/0/sku", 'must match pattern "^[A-Z]{3}-\\d+$"'],
    [{}, "", "must have required property 'id'"],
    [[1], "", "must be object"],
  ])("names where a payload fails it and why: %j", (payload, path, message) => {
    expect(check(payload)).toEqual({ path, message });
  });

  it("is draft 2020-12 by default, draft-07 when its $schema says so; other drafts are refused by name", () => {
    const tuple = compilePayloadSchema({ type: "array", prefixItems: [{ type: "string" }, { type: "number" }] });
    expect(tuple(["a", "b"])).toEqual({ path: "/1", message: "must be number" });
    const d7 = compilePayloadSchema({ $schema: "http://json-schema.org/draft-07/schema#", definitions: { n: { type: "integer" } }, properties: { n: { $ref: "#/definitions/n" } } });
    expect(d7({ n: 1.5 })).toEqual({ path: "/n", message: "must be integer" });
    expect(compilePayloadSchema({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "null" })(null)).toBeUndefined();
    const old = refusal({ $schema: "http://json-schema.org/draft-04/schema#" });
    expect(old.path).toBe("/$schema");
    expect(old.message).toMatch(/is not a supported draft/);
  });

  it("ignores keywords its draft does not know, as the specification says", () => {
    const loose = compilePayloadSchema({ type: "object", "x-vendor": { a: 1 }, example: { a: 1 }, nullable: true });
    expect(loose({})).toBeUndefined();
    expect(loose(1)).toEqual({ path: "", message: "must be object" });
  });

  it.each([
    [{ type: "strin" }, "/type", /must be equal to one of the allowed values: "array", "boolean"/],
    [{ properties: { price: { minimum: "0" } } }, "/properties/price/minimum", /must be number/],
    [{ required: "id" }, "/required", /must be array/],
    [{ $ref: "https://example.com/order.json" }, "", /"\$ref" "https:\/\/example.com\/order.json" does not resolve inside the schema/],
    [{ $ref: "#/$defs/missing" }, "", /does not resolve inside the schema/],
    [{ type: "string", pattern: "^(a+)+$" }, "", /pattern "\^\(a\+\)\+\$" has nested repetition/],
    [{ patternProperties: { "^(x|y+)*$": {} } }, "", /nested repetition/],
    [{ type: "string", pattern: "([" }, "", /Invalid regular expression/],
  ])("refuses a schema that cannot be used, naming the place: %j", (schema, path, message) => {
    const err = refusal(schema);
    expect(err.path).toBe(path);
    expect(err.message).toMatch(message);
  });

  it("bounds a pairwise uniqueItems check: objects need maxItems, scalars do not, and names or data that merely say uniqueItems pass", () => {
    const err = refusal({ properties: { tags: { type: "array", items: { type: "object" }, uniqueItems: true } } });
    expect(err.path).toBe("/properties/tags/uniqueItems");
    expect(err.message).toMatch(/add "maxItems" of at most 1000/);
    expect(refusal({ type: "array", uniqueItems: true, maxItems: 5000 }).path).toBe("/uniqueItems");
    expect(compilePayloadSchema({ type: "array", uniqueItems: true, maxItems: 3 })([{ a: 1 }, { a: 1 }])).toEqual({ path: "", message: "must NOT have duplicate items (items ## 0 and 1 are identical)" });
    expect(compilePayloadSchema({ type: "array", uniqueItems: true, items: { type: ["string", "integer"] } })(["a", 1, "a"])?.path).toBe("");
    expect(compilePayloadSchema({ properties: { uniqueItems: true }, enum: [{ uniqueItems: true }] })({ uniqueItems: true })).toBeUndefined();
  });

  it("keeps nothing of a compiled schema in the compiler: two schemas may carry one $id", () => {
    const a = compilePayloadSchema({ $id: "https://example.com/order", type: "number" });
    const b = compilePayloadSchema({ $id: "https://example.com/order", type: "string" });
    expect(a("x")).toEqual({ path: "", message: "must be number" });
    expect(b("x")).toBeUndefined();
  });
});

describe("compiled schemas", () => {
  const schemaOf = (n: number) => JSON.stringify({ type: "object", properties: { [`p${n}`]: { type: "number" } } });

  it("compile a text once, and the same text in another tenant shares it", () => {
    const cache = new CompiledSchemas();
    const text = schemaOf(1);
    const first = cache.compile(text, schemaDigest(text));
    expect(cache.compile(text, schemaDigest(text))).toBe(first);
    expect(cache.get(schemaDigest(text))).toBe(first);
    expect(cache.get(schemaDigest(schemaOf(2)))).toBeUndefined();
  });

  it("are bounded in entries and in schema text, dropping the least recently used", () => {
    const cache = new CompiledSchemas({ entries: 3, schemaBytes: 1_000_000 });
    for (const n of [1, 2, 3]) cache.compile(schemaOf(n), schemaDigest(schemaOf(n)));
    cache.get(schemaDigest(schemaOf(1))); // used again: 2 is now the oldest
    cache.compile(schemaOf(4), schemaDigest(schemaOf(4)));
    expect(cache.size).toBe(3);
    expect(cache.get(schemaDigest(schemaOf(2)))).toBeUndefined();
    expect(cache.get(schemaDigest(schemaOf(1)))).toBeDefined();

    const small = new CompiledSchemas({ entries: 100, schemaBytes: schemaOf(1).length * 2 });
    for (const n of [1, 2, 3]) small.compile(schemaOf(n), schemaDigest(schemaOf(n)));
    expect(small.size).toBe(2);
    // One larger than the whole budget is still compiled and kept, alone.
    const big = JSON.stringify({ type: "object", description: "x".repeat(1000) });
    small.compile(big, schemaDigest(big));
    expect(small.size).toBe(1);
  });

  it("keep nothing of a schema that does not compile", () => {
    const cache = new CompiledSchemas();
    expect(() => cache.compile('{"type":"strin"}', "d")).toThrow(SchemaError);
    expect(cache.size).toBe(0);
  });
});

describe("built-in event types", () => {
  it("are Hookwire's operational events, in name order, each with a description, a schema and an example that satisfies it", () => {
    expect(BUILTIN_EVENT_TYPES.map((b) => b.name)).toEqual([DELIVERY_EXHAUSTED, ENDPOINT_DISABLED]);
    for (const b of BUILTIN_EVENT_TYPES) {
      expect(b.builtin).toBe(true);
      expect(b.description.length).toBeGreaterThan(20);
      expect(compilePayloadSchema(JSON.parse(b.schema!) as Record<string, unknown>)(JSON.parse(b.example!))).toBeUndefined();
    }
    expect(builtinEventType(ENDPOINT_DISABLED)?.name).toBe(ENDPOINT_DISABLED);
    expect(builtinEventType("order.created")).toBeUndefined();
  });

  it("schemas hold exactly the payloads' keys (the examples are made by the functions that make the payloads)", () => {
    for (const b of BUILTIN_EVENT_TYPES) {
      const schema = JSON.parse(b.schema!) as { properties: object; required: string[] };
      expect(Object.keys(JSON.parse(b.example!) as object).sort()).toEqual(Object.keys(schema.properties).sort());
      expect(schema.required.sort()).toEqual(Object.keys(schema.properties).sort());
    }
  });
});

describe("names and pages", () => {
  it("a name is an event name as Trigger takes it, and not one of Hookwire's own", () => {
    expect(validateCatalogName("order.created")).toBe("order.created");
    expect(() => validateCatalogName("")).toThrow(/^name: is required/);
    expect(() => validateCatalogName("order.*")).toThrow(/^name: "order\.\*" is not an event type/);
    expect(() => validateCatalogName("a".repeat(129))).toThrow(/^name: .* at most 128 characters/);
    expect(() => validateCatalogName("HookWire.endpoint.disabled")).toThrow(/^name: .*Hookwire's built-in operational events/);
  });

  it("page tokens carry the last name, and nothing else decodes", () => {
    expect(decodeNameToken(encodeNameToken("order.created"))).toBe("order.created");
    expect(decodeNameToken("")).toBeUndefined();
    expect(() => decodeNameToken(Buffer.from("not a name").toString("base64url"))).toThrow(/^page_token: /);
  });

  it("the store's _ids keep a tenant's names in order, are walk-index safe, and differ per tenant", () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,6}(\.[A-Za-z0-9_-]{1,6}){0,3}$/);
    fc.assert(
      fc.property(name, name, (a, b) => {
        expect(EVENT_NAME.test(a) && EVENT_NAME.test(b)).toBe(true);
        const [ia, ib] = [eventTypeId("acme", a), eventTypeId("acme", b)];
        expect(ia).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(Math.sign(ia < ib ? -1 : ia > ib ? 1 : 0)).toBe(Math.sign(a < b ? -1 : a > b ? 1 : 0));
        expect(eventTypeId("globex", a)).not.toBe(ia);
      }),
      { numRuns: 500 },
    );
    // Tenant names may hold '.' and '_': no tenant and name pair can stand for another.
    expect(eventTypeId("a_b", "c")).not.toBe(eventTypeId("a", "b_c"));
  });
});
