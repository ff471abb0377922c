// The one conversion between a payload's JSON and google.protobuf.Value, used by the server and the SDK.
//
// protobuf-es keeps a Struct's fields in a plain object and fills it by assignment, so a "__proto__"
// key (legal JSON) does not become an entry: `fields["__proto__"] = value` sets the object's prototype
// instead. Its decoders (fromJson, fromBinary) do that, and its encoders then skip the key. This module
// therefore reads such a key back from the prototype, and builds Values whose fields live in a
// prototype-less object, where "__proto__" is an ordinary own entry that toBinary writes. Nothing here
// goes through property assignment on an object that has Object.prototype.
import type { ListValue, Struct, Value } from "@bufbuild/protobuf/wkt";

/** A payload that cannot be carried as given; the message does not name the field (the caller does). */
export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PayloadError";
  }
}

export interface PayloadLimits {
  /** Most objects and arrays nested in one another ({} alone is 1). */
  maxDepth?: number;
}

type Kind = Value["kind"];

const value = (kind: Kind): Value => ({ $typeName: "google.protobuf.Value", kind }) as Value;

/** The entries of a Struct decoded by protobuf-es, a "__proto__" entry included. */
function structEntries(struct: Struct): Array<[string, Value]> {
  const fields = struct.fields;
  const entries = Object.entries(fields);
  const proto: unknown = Object.getPrototypeOf(fields);
  if (proto !== null && proto !== Object.prototype && isValue(proto)) entries.unshift(["__proto__", proto]);
  return entries;
}

function isValue(v: unknown): v is Value {
  return typeof v === "object" && v !== null && (v as { $typeName?: unknown }).$typeName === "google.protobuf.Value";
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkString(s: string, what: string): string {
  // Protobuf strings are UTF-8, which has no lone surrogates: such a payload could not be read back over binary gRPC.
  if (LONE_SURROGATE.test(s)) throw new PayloadError(`${what} ${JSON.stringify(s.slice(0, 40))} holds a lone UTF-16 surrogate`);
  return s;
}

function depthError(maxDepth: number): PayloadError {
  return new PayloadError(`is nested deeper than ${maxDepth} levels of objects and arrays`);
}

/** A google.protobuf.Value as JSON text (an unset Value is null), refused when it breaks the limits. */
export function valueToJsonText(v: Value | undefined, limits: PayloadLimits = {}): string {
  return jsonText(v, 0, limits.maxDepth ?? Infinity);
}

// A module-level function rather than a closure per call: tsx (esbuild's keepNames) names each such closure
// with a __name call, which the server's profile showed on every Trigger.
function jsonText(v: Value | undefined, depth: number, maxDepth: number): string {
  const kind = v?.kind;
  switch (kind?.case) {
    case undefined:
    case "nullValue":
      return "null";
    case "boolValue":
      return kind.value ? "true" : "false";
    case "numberValue":
      if (!Number.isFinite(kind.value)) throw new PayloadError(`${kind.value} is not a JSON number`);
      return JSON.stringify(kind.value);
    case "stringValue":
      return JSON.stringify(checkString(kind.value, "string"));
    case "listValue":
      if (depth >= maxDepth) throw depthError(maxDepth);
      return `[${kind.value.values.map((item) => jsonText(item, depth + 1, maxDepth)).join(",")}]`;
    case "structValue": {
      if (depth >= maxDepth) throw depthError(maxDepth);
      const parts = structEntries(kind.value).map(([k, item]) => `${JSON.stringify(checkString(k, "key"))}:${jsonText(item, depth + 1, maxDepth)}`);
      return `{${parts.join(",")}}`;
    }
  }
}

/**
 * Parsed JSON (from JSON.parse, which keeps "__proto__" as an own property) as a google.protobuf.Value
 * that every protobuf-es encoder writes in full.
 */
export function valueFromJson(json: unknown, limits: PayloadLimits = {}): Value {
  return fromParsed(json, 0, limits.maxDepth ?? Infinity);
}

// Module-level, as jsonText is.
function fromParsed(j: unknown, depth: number, maxDepth: number): Value {
  if (j === null) return value({ case: "nullValue", value: 0 as never });
  switch (typeof j) {
    case "boolean":
      return value({ case: "boolValue", value: j });
    case "number":
      if (!Number.isFinite(j)) throw new PayloadError(`${j} is not a JSON number`);
      return value({ case: "numberValue", value: j });
    case "string":
      return value({ case: "stringValue", value: checkString(j, "string") });
    case "object": {
      if (depth >= maxDepth) throw depthError(maxDepth);
      if (Array.isArray(j)) {
        const list: ListValue = { $typeName: "google.protobuf.ListValue", values: j.map((item) => fromParsed(item, depth + 1, maxDepth)) } as ListValue;
        return value({ case: "listValue", value: list });
      }
      const fields = Object.create(null) as Record<string, Value>;
      for (const k of Object.keys(j)) fields[checkString(k, "key")] = fromParsed((j as Record<string, unknown>)[k], depth + 1, maxDepth);
      return value({ case: "structValue", value: { $typeName: "google.protobuf.Struct", fields } as Struct });
    }
    default:
      throw new PayloadError(`a ${typeof j} is not JSON`);
  }
}

/** JSON text as a google.protobuf.Value. */
export function valueFromJsonText(text: string, limits: PayloadLimits = {}): Value {
  return valueFromJson(JSON.parse(text), limits);
}
