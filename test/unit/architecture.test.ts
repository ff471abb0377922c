// The layout's rules (../shared/DESIGN.md, "Layout"), read from the code's imports: which folder of server/ may
// import which, that only the store speaks to the database driver, and that no module imports itself back.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Every TypeScript file under a folder (generated code included: it is imported like any other). */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

interface Edge {
  from: string;
  /** A path relative to the repository for a relative import; the bare specifier otherwise. */
  to: string;
  bare: boolean;
}

/** Static imports and re-exports (type-only ones too: they tie the modules as much), and import() of a literal. */
function importsOf(file: string): Edge[] {
  const text = readFileSync(file, "utf8");
  const from = relative(ROOT, file);
  const edges: Edge[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s*["']([^"']+)["']/g)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (spec.startsWith(".")) edges.push({ from, to: relative(ROOT, resolve(dirname(file), spec)).replace(/\.js$/, ".ts"), bare: false });
    else edges.push({ from, to: spec, bare: true });
  }
  return edges;
}

const server = sources(join(ROOT, "server")).filter((f) => !f.includes("/server/console/") && !f.includes("/server/portal/"));
const edges = server.flatMap(importsOf);

/** The layer a server file belongs to: its folder under server/, or the file's name at the root. */
function layer(path: string): string {
  const rest = path.replace(/^server\//, "");
  return rest.includes("/") ? rest.slice(0, rest.indexOf("/")) + "/" : rest;
}

/** What each layer may import, besides itself and the packages it names. */
const MAY_IMPORT: Record<string, string[]> = {
  "domain/": [],
  "usecases/": ["domain/", "ports.ts", "telemetry/"],
  "api/": ["usecases/", "domain/", "ports.ts", "telemetry/", "gen/"],
  "engine/": ["domain/", "ports.ts", "telemetry/"],
  "store/": ["domain/", "ports.ts", "telemetry/"],
  "telemetry/": ["domain/"],
  "dev/": ["domain/", "telemetry/"],
  "gen/": [],
  "ports.ts": ["domain/"],
  // The worker processes: part of the composition (a worker runs app.ts), with the engine's pacer shared.
  "cluster/": ["app.ts", "config.ts", "ports.ts", "engine/", "api/", "telemetry/", "domain/"],
};
/** The composition root: it wires every layer together. */
const ROOT_FILES = ["main.ts", "app.ts", "config.ts", "ports.ts", "harden.ts", "warmup.ts", "wiring.ts", "tracing.ts"];

it("server/ holds only the composition root; everything else is in a folder of the layout", () => {
  const loose = readdirSync(join(ROOT, "server")).filter((n) => n.endsWith(".ts") && !ROOT_FILES.includes(n));
  expect(loose).toEqual([]);
  const folders = readdirSync(join(ROOT, "server")).filter((n) => statSync(join(ROOT, "server", n)).isDirectory());
  expect(folders.sort()).toEqual(["api", "cluster", "console", "dev", "domain", "engine", "gen", "portal", "store", "telemetry", "usecases"]);
});

it("each layer imports only what it may: domain nothing, use cases the domain and the ports, the API never the store or the engine", () => {
  const wrong: string[] = [];
  for (const e of edges) {
    if (e.bare || !e.to.startsWith("server/")) continue;
    const from = layer(e.from);
    const to = layer(e.to);
    if (from === to || ROOT_FILES.includes(from) && from !== "ports.ts") continue;
    const allowed = MAY_IMPORT[from];
    if (!allowed || !allowed.includes(to)) wrong.push(`${e.from} -> ${e.to}`);
  }
  expect(wrong).toEqual([]);
});

it("only app.ts and the store's opener reach into the store from outside it (and the warm-up into the in-memory store alone)", () => {
  const openers = ["server/app.ts", "server/warmup.ts"];
  const wrong = edges.filter((e) => !e.bare && e.to.startsWith("server/store/") && !e.from.startsWith("server/store/") && !openers.includes(e.from));
  expect(wrong.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  const opened = edges.filter((e) => e.from === "server/app.ts" && e.to.startsWith("server/store/")).map((e) => e.to);
  expect(opened).toEqual(opened.length > 0 ? opened.map(() => "server/store/open.ts") : []);
  // The warm-up's rig must never open the real store: its private one is in memory (server/warmup.ts).
  const rig = edges.filter((e) => e.from === "server/warmup.ts" && e.to.startsWith("server/store/")).map((e) => e.to);
  expect(rig).toEqual(["server/store/memory/memory-store.ts"]);
});

it("nothing outside server/store/ imports the database driver", () => {
  const wrong = edges.filter((e) => e.bare && (e.to === "mongodb" || e.to.startsWith("mongodb/")) && !e.from.startsWith("server/store/"));
  expect(wrong.map((e) => e.from)).toEqual([]);
});

it("no import cycles, in the server or in the SDK", () => {
  const cycles: string[] = [];
  for (const files of [server, sources(join(ROOT, "sdk", "src"))]) {
    const graph = new Map<string, string[]>();
    for (const f of files) graph.set(relative(ROOT, f), importsOf(f).filter((e) => !e.bare).map((e) => e.to));
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (n: string) => {
      if (state.get(n) === "done") return;
      if (state.get(n) === "open") {
        cycles.push([...stack.slice(stack.indexOf(n)), n].join(" -> "));
        return;
      }
      state.set(n, "open");
      stack.push(n);
      for (const m of graph.get(n) ?? []) if (graph.has(m)) visit(m);
      stack.pop();
      state.set(n, "done");
    };
    for (const n of graph.keys()) visit(n);
  }
  expect(cycles).toEqual([]);
});
