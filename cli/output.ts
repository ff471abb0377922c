// Printing: one JSON document (or one JSON line per event) for scripts, aligned columns for people,
// and colour only on a terminal that has not asked for none (https://no-color.org).
import type { Delivery, DeliveryAttempt } from "@hookwire/sdk";

/** One JSON document on stdout; Dates print as ISO 8601 through Date.toJSON. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** One JSON line on stdout, for streams (`tail --json`). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + "\n");
}

export function printLine(line = ""): void {
  process.stdout.write(line + "\n");
}

/** Rows under a header, each column as wide as its widest cell; the last column is not padded. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  printLine(line(header));
  for (const row of rows) printLine(line(row));
}

/** Label/value lines, labels aligned. */
export function printFields(fields: [string, string][]): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  for (const [k, v] of fields) printLine(`${k.padEnd(width)}  ${v}`);
}

export const iso = (d: Date | null): string => (d ? d.toISOString() : "-");

/** What an attempt got, in a few words: "HTTP 503 in 12 ms" or "timeout after 10000 ms". */
export function attemptSummary(a: DeliveryAttempt | undefined): string {
  if (!a) return "no attempt yet";
  const what = a.statusCode ? `HTTP ${a.statusCode}` : a.error || "no answer";
  return `${what} in ${a.durationMs} ms`;
}

/** The word for where a delivery stands: a pending one with attempts is waiting to retry. */
export function deliveryState(d: Delivery): string {
  if (d.status === "pending" && d.attempts.length > 0) return "retrying";
  return d.status;
}

const ANSI = { red: 31, green: 32, yellow: 33, dim: 2 } as const;
export type Colour = keyof typeof ANSI;

/** Colour for this stream: only a terminal, and never when NO_COLOR is set to anything non-empty. */
export function colourFor(stream: NodeJS.WriteStream): (text: string, colour: Colour) => string {
  const on = stream.isTTY === true && !process.env.NO_COLOR;
  return on ? (text, colour) => `\x1b[${ANSI[colour]}m${text}\x1b[0m` : (text) => text;
}
