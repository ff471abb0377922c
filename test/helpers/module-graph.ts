// Which modules a JavaScript or TypeScript file pulls in, read from its import and export statements.
import { readFileSync } from "node:fs";

/** Every module a file imports, transitively, by following relative specifiers; bare ones are listed. */
export function moduleGraph(entry: string, resolveRelative: (from: string, spec: string) => string): { files: string[]; external: string[] } {
  const files = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, "utf8");
    // Static imports and re-exports, type-only ones included (they are erased, but an error here is cheap),
    // and dynamic import() with a literal.
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s*["']([^"']+)["']/g)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith(".")) visit(resolveRelative(file, spec));
      else external.add(spec);
    }
  };
  visit(entry);
  return { files: [...files], external: [...external] };
}
