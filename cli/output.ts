// Printing: one JSON document (or one JSON line per event) for scripts, aligned columns for people,
// and colour only on a terminal that has not asked for none (https://no-color.org). Everything printed
// passes through terminalSafe first: URLs, descriptions, errors and excerpts come from tenants, and a
// terminal escape sequence in them must not reach the operator's terminal.
import type { Delivery, DeliveryAttempt } from "@hookwire/sdk";

/**
 * C0 controls (ESC among them), DEL, C1 controls (a lone U+009B is CSI on some terminals) and the Unicode
 * bidirectional controls (which reorder what a line appears to say): each printed as an escape.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Text with every control character written as an escape (\x1b, \u202e; \n, \r, \t), safe to print on a terminal. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`);
  });
}

/** What JSON.stringify leaves raw (it escapes C0 only); outside strings JSON has none of these. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** JSON text whose strings carry no raw control character: the rest become \u escapes (still the same JSON). */
function jsonSafe(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** One JSON document on stdout; Dates print as ISO 8601 through Date.toJSON. */
export function printJson(value: unknown): void {
  process.stdout.write(jsonSafe(JSON.stringify(value, null, 2)) + "\n");
}

/** One JSON line on stdout, for streams (`tail --json`). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(jsonSafe(JSON.stringify(value)) + "\n");
}

export function printLine(line = ""): void {
  process.stdout.write(terminalSafe(line) + "\n");
}

/** A line on stderr (notes such as the next page's token), made safe like stdout's. */
export function printNote(line: string): void {
  process.stderr.write(terminalSafe(line) + "\n");
}

/** A line built from pieces that went through terminalSafe already, with our own colour codes between them (tail). */
export function printColouredLine(line: string): void {
  process.stdout.write(line + "\n");
}

/** Rows under a header, each column as wide as its widest cell; the last column is not padded. */
export function printTable(header: string[], unsafeRows: string[][]): void {
  // Escaped before measuring, so the columns line up as printed.
  const rows = unsafeRows.map((r) => r.map(terminalSafe));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  printColouredLine(line(header));
  for (const row of rows) printColouredLine(line(row));
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

/** Colour for this stream: only a terminal, and never when NO_COLOR is set to anything non-empty. The text is made safe first. */
export function colourFor(stream: NodeJS.WriteStream): (text: string, colour: Colour) => string {
  const on = stream.isTTY === true && !process.env.NO_COLOR;
  return on ? (text, colour) => `\x1b[${ANSI[colour]}m${terminalSafe(text)}\x1b[0m` : (text) => terminalSafe(text);
}
