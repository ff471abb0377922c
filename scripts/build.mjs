// Builds the server and the CLI into dist/ with esbuild, so `npm start` and the `hookwire` command run JavaScript
// rather than compiling TypeScript as they load (which cost each process about 50 MB and each CLI command a
// second and a half). Fast enough (well under a second) to run before every start, so dist/ is never stale.
// `--if-stale` builds only when a source is newer than the last build (for the CLI's launcher and the tests).
// Plain JS: it runs before anything else is built. The SDK's TypeScript sources are bundled in (the
// hookwire-source condition); the npm packages stay imports of node_modules.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8"));
const packages = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((name) => name !== "@hookwire/sdk");

/**
 * Each module's import.meta.url stays the URL of its source file: the server finds files beside its sources
 * (the console's and portal's pages, the FerretDB build script) and resolves packages from there.
 */
const sourceUrls = {
  name: "source-urls",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, "utf8");
      return { contents: text.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)), loader: "ts" };
    });
  },
};

const STAMP = `${root}dist/server/main.mjs`;

/** The newest modification time of the TypeScript the bundles are built from (a few hundred files: milliseconds). */
function newestSource() {
  let newest = statSync(`${root}package-lock.json`).mtimeMs;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of ["server", "cli", "sdk/src"]) walk(`${root}${dir}`);
  return newest;
}

/** Builds dist/ unless it is newer than every source. */
export async function buildIfStale() {
  if (existsSync(STAMP) && statSync(STAMP).mtimeMs >= newestSource()) return;
  await buildAll();
}

export async function buildAll() {
  // Loaded here: a launcher finding dist/ fresh does not pay for loading esbuild.
  const { build } = await import("esbuild");
  await build({
  absWorkingDir: root,
  entryPoints: { "server/main": "server/main.ts", "cli/main": "cli/main.ts" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  // Shared code in chunks of its own: a cluster's first process loads only what it runs, not the whole server.
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  conditions: ["hookwire-source"],
  external: packages.flatMap((name) => [name, `${name}/*`]),
  sourcemap: "linked",
  plugins: [sourceUrls],
  logLevel: "warning",
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await (process.argv.includes("--if-stale") ? buildIfStale() : buildAll());
}
