// Reading what the command line points at: JSON payloads and raw bodies from a flag, a file (@path) or
// standard input, and times and numbers, each refused as a usage error naming the flag.
import { readFileSync } from "node:fs";
import { UsageError } from "./exit-codes.js";

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function readPath(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * The bytes a flag names: "@file" reads the file, "-" reads standard input, anything else is the
 * value itself. With no flag, standard input when it is not a terminal (a pipe or a file), else none.
 */
export async function readSource(value: string | undefined, flag: string): Promise<Buffer | undefined> {
  if (value === "-") return readStdin();
  if (value?.startsWith("@")) return readPath(value.slice(1), flag);
  if (value !== undefined) return Buffer.from(value, "utf8");
  if (process.stdin.isTTY) return undefined;
  return readStdin();
}

/** A JSON payload from --data, a file or stdin; null when there is none (or stdin is empty). */
export async function readJsonPayload(value: string | undefined, flag = "--data"): Promise<unknown> {
  const bytes = await readSource(value, flag);
  const text = bytes?.toString("utf8") ?? "";
  if (text.trim() === "") {
    if (value !== undefined && value !== "-") throw new UsageError(`${flag}: empty, give a JSON value`);
    return null;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${flag}: not JSON: ${(err as Error).message}`);
  }
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A moment: an RFC 3339 date-time ("2026-05-01T12:00:00Z"), or a span ago ("90m", "6h", "7d"). */
export function parseSince(text: string, flag = "--since", now = Date.now()): Date {
  const ago = /^(\d+)([smhdw])$/.exec(text.trim());
  if (ago) return new Date(now - Number(ago[1]) * UNITS[ago[2]!]!);
  // Date.parse accepts much that is not a date-time; ask for the RFC 3339 shape first.
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text.trim())) {
    const ms = Date.parse(text.trim());
    if (!Number.isNaN(ms)) return new Date(ms);
  }
  throw new UsageError(`${flag}: "${text}" is not a date-time (2026-05-01T12:00:00Z) or a span ago (30m, 6h, 7d)`);
}

/** A commander argParser for a whole number flag, refused by name. */
export function integer(flag: string, min = 0) {
  return (text: string): number => {
    if (!/^-?\d+$/.test(text.trim()) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
      throw new UsageError(`${flag}: "${text}" is not a whole number${min > 0 ? ` of at least ${min}` : ""}`);
    }
    return Number(text);
  };
}
