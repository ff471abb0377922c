// Compiled payload schemas, kept so that a schema is compiled once per process rather than per Trigger
// (compiling takes milliseconds; checking a payload, microseconds). Keyed by the digest of the schema's
// text, so an update (a new text, a new digest) is never answered by the old schema, and every tenant
// using the same text shares one entry. Bounded both in entries and in the schema text they were
// compiled from (a compiled schema's size follows its text's): a tenant may have thousands of event
// types with schemas, and the least recently used are dropped first, to be compiled again when a
// Trigger needs them.
import { compilePayloadSchema, type PayloadCheck } from "../domain/payload-schema.js";

export const COMPILED_SCHEMA_LIMITS = {
  entries: 2000,
  /** About 1,000 schemas of typical size (a few KiB), or 64 of the largest accepted. */
  schemaBytes: 4 * 1024 * 1024,
} as const;

export class CompiledSchemas {
  /** In use order, least recent first (a Map keeps insertion order; a hit moves its entry to the end). */
  private readonly entries = new Map<string, { check: PayloadCheck; bytes: number }>();
  private bytes = 0;

  constructor(private readonly limits: { entries: number; schemaBytes: number } = COMPILED_SCHEMA_LIMITS) {}

  get size(): number {
    return this.entries.size;
  }

  get(digest: string): PayloadCheck | undefined {
    const entry = this.entries.get(digest);
    if (!entry) return undefined;
    this.entries.delete(digest);
    this.entries.set(digest, entry);
    return entry.check;
  }

  /** The schema compiled (or found compiled); throws SchemaError for one that does not compile, keeping nothing. */
  compile(schemaJson: string, digest: string): PayloadCheck {
    const found = this.get(digest);
    if (found) return found;
    const check = compilePayloadSchema(JSON.parse(schemaJson) as Record<string, unknown>);
    const bytes = schemaJson.length;
    this.entries.set(digest, { check, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.limits.entries && this.bytes <= this.limits.schemaBytes) break;
      if (oldest === digest) break; // the one just compiled stays, however large
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
    return check;
  }
}
