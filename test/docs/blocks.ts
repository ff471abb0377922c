// The fenced code blocks of a Markdown page, with what the docs checker does with each (docs/README.md,
// "Runnable blocks", is the convention this implements). Pure: no I/O, so the unit tier checks it.

/** What the checker does with a block. */
export type Action =
  /** An `sh` block: run by bash in the repo root, after the page's earlier blocks. */
  | { kind: "sh" }
  /** A `ts` block without a marker: run as a program with tsx. */
  | { kind: "ts" }
  /** `<!-- docs: file PATH -->`: written to PATH (relative to the repo root) for later blocks to run. */
  | { kind: "file"; path: string }
  /** `<!-- docs: server -->` before `[VAR=value …] npm start`: the checker starts its own server with those variables. */
  | { kind: "server"; env: Record<string, string> }
  /** `<!-- docs: skip REASON -->`, or an info string that never runs (`text`, `json`, …). */
  | { kind: "skip"; reason: string };

export interface Block {
  /** The page, as given (e.g. "README.md"). */
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word, lower case ("sh", "ts", "text"; "" when none). */
  lang: string;
  code: string;
  action: Action;
}

/** Info strings whose blocks run; any other never does. */
export const RUNNABLE = new Set(["sh", "bash", "ts", "typescript", "go", "python"]);

/** A page that breaks the convention: the checker fails on it as on a block that fails. */
export class ConventionError extends Error {
  override name = "ConventionError";
}

const MARKER = /^\s*<!--\s*docs:\s*(\S+)\s*(.*?)\s*-->\s*$/;
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)?.*$/;

/** The blocks of a page, in order, each with its action; throws ConventionError naming the line for a bad marker. */
export function parseBlocks(page: string, text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let marker: { word: string; rest: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const m = MARKER.exec(raw);
    if (m) {
      marker = { word: m[1]!, rest: m[2]!, line: i + 1 };
      continue;
    }
    const fence = FENCE.exec(raw);
    if (!fence) {
      // A marker applies to the next block only when nothing but blank lines stands between them.
      if (raw.trim() !== "") marker = undefined;
      continue;
    }
    const [, indent, ticks, info] = fence as unknown as [string, string, string, string | undefined];
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length; i++) {
      const close = lines[i]!;
      if (close.trim().startsWith(ticks[0]!.repeat(ticks.length)) && close.trim().replace(/[`~]/g, "") === "") break;
      // Blocks inside list items are indented: drop the fence's indentation.
      body.push(close.startsWith(indent) ? close.slice(indent.length) : close.trimStart());
    }
    if (i >= lines.length) throw new ConventionError(`${page}:${start + 1}: the code block opened here is never closed`);
    const lang = (info ?? "").toLowerCase();
    const code = body.join("\n") + "\n";
    blocks.push({ page, line: start + 1, lang, code, action: actionOf(page, start + 1, lang, code, marker) });
    marker = undefined;
  }
  return blocks;
}

function actionOf(page: string, line: number, lang: string, code: string, marker: { word: string; rest: string; line: number } | undefined): Action {
  const where = `${page}:${line}`;
  if (marker) {
    switch (marker.word) {
      case "skip":
        if (!marker.rest) throw new ConventionError(`${page}:${marker.line}: <!-- docs: skip --> needs a reason, e.g. <!-- docs: skip needs a browser -->`);
        return { kind: "skip", reason: marker.rest };
      case "file": {
        const path = marker.rest;
        if (!path || path.startsWith("/") || path.split("/").includes("..")) {
          throw new ConventionError(`${page}:${marker.line}: <!-- docs: file PATH --> needs a path inside the repository, got "${path}"`);
        }
        return { kind: "file", path };
      }
      case "server":
        return { kind: "server", env: serverEnv(where, code) };
      default:
        throw new ConventionError(`${page}:${marker.line}: unknown marker "docs: ${marker.word}" (known: skip, file, server)`);
    }
  }
  if (!RUNNABLE.has(lang)) return { kind: "skip", reason: lang ? `info string "${lang}" does not run` : "no info string" };
  if (lang === "sh" || lang === "bash") return { kind: "sh" };
  if (lang === "ts" || lang === "typescript") return { kind: "ts" };
  throw new ConventionError(`${where}: a ${lang} block must be written to a file (<!-- docs: file PATH --> before it) for a later sh block to run, or be marked <!-- docs: skip REASON -->`);
}

/** The variables of a `[VAR=value …] npm start` line (values may be quoted); anything else breaks the convention. */
function serverEnv(where: string, code: string): Record<string, string> {
  const lines = code.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter((l) => l && !l.startsWith("#"));
  const words = lines.length === 1 ? lines[0]!.match(/(?:[^\s'"]+|'[^']*'|"[^"]*")+/g) ?? [] : [];
  if (words.slice(-2).join(" ") !== "npm start") {
    throw new ConventionError(`${where}: a <!-- docs: server --> block holds one line, [VAR=value …] npm start; got:\n${code}`);
  }
  const env: Record<string, string> = {};
  for (const w of words.slice(0, -2)) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(w);
    if (!m) throw new ConventionError(`${where}: "${w}" before npm start is not VAR=value`);
    env[m[1]!] = m[2]!.replace(/^'(.*)'$|^"(.*)"$/, "$1$2");
  }
  return env;
}

/**
 * The docs speak of a server on port 8080 and a receiver on port 9000; the checker's listen on free ports (so a
 * page never meets a port another program on the machine holds).
 */
export function onPort(code: string, port: number, receiverPort: number): string {
  return code
    .replace(/\b(127\.0\.0\.1|localhost):8080\b/g, `$1:${port}`)
    .replace(/\b(127\.0\.0\.1|localhost):9000\b/g, `$1:${receiverPort}`)
    .replace(/\blisten\(9000\b/g, `listen(${receiverPort}`);
}
