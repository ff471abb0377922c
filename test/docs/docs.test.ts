// The docs checker: every runnable block of README.md and docs/*.md runs, in order per page, against a real
// Hookwire (docs/README.md, "Runnable blocks"), so the docs cannot drift from what the code does. A failure names
// the page, the line and the command. Also: docs/configuration.md names every HOOKWIRE_* setting of
// server/config.ts and no other, and relative links point at files that exist.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { uniqueDatabase } from "../helpers/server.js";
import { parseBlocks } from "./blocks.js";
import { BlockFailure, ROOT, runPage } from "./run-page.js";

const PAGES = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];

const opts = () => ({ mongodbUri: inject("mongodbUri"), database: uniqueDatabase("docs") });

describe("every runnable block of the README and docs/ runs against a live server", () => {
  for (const page of PAGES) {
    it(page, async () => {
      const blocks = parseBlocks(page, readFileSync(join(ROOT, page), "utf8"));
      const { ran, skipped } = await runPage(blocks, opts());
      console.log(`${page}: ${ran.length} block(s) ran, ${skipped.length} not run`);
    }, 1_200_000);
  }

  it("a block that fails fails the page, naming its file, line and command; what the page started is stopped", async () => {
    const page = ["# A broken page", "", "```sh", "sleep 600 &", "echo fine", "```", "", "```sh", "npx hookwire subscriptions list", "false   # broken", "```", ""].join("\n");
    const blocks = parseBlocks("docs/broken.md", page);
    const err = await runPage(blocks, opts()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BlockFailure);
    expect((err as Error).message).toMatch(/^docs\/broken\.md:8: `npx hookwire subscriptions list` exited 1/);
  }, 120_000);

  it("a file block and the sh block that runs it: the program's failure fails the page", async () => {
    const page = ["<!-- docs: file .docs-check-broken.mjs -->", "```js", "process.exit(3);", "```", "", "```sh", "node .docs-check-broken.mjs", "```", ""].join("\n");
    const err = await runPage(parseBlocks("docs/broken.md", page), opts()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/^docs\/broken\.md:6: `node \.docs-check-broken\.mjs` exited 3/);
    expect(existsSync(join(ROOT, ".docs-check-broken.mjs"))).toBe(false);
  }, 120_000);
});

describe("docs/configuration.md", () => {
  /** Variables read elsewhere than server/config.ts: the clients', the scripts' and the tests'. */
  const NOT_SERVER = new Set(["HOOKWIRE_URL", "HOOKWIRE_API_KEY", "HOOKWIRE_ADDR", "HOOKWIRE_CACHE_DIR", "HOOKWIRE_CHROMIUM"]);
  const names = (text: string) => new Set(text.match(/\bHOOKWIRE_[A-Z0-9]+(?:_[A-Z0-9]+)*\b/g) ?? []);

  it("names every HOOKWIRE_* setting server/config.ts reads, and none it does not", () => {
    const config = names(readFileSync(join(ROOT, "server/config.ts"), "utf8"));
    const doc = readFileSync(join(ROOT, "docs/configuration.md"), "utf8");
    // The settings are the first column of the page's tables.
    const rows = new Set([...doc.matchAll(/^\| `(HOOKWIRE_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
    expect([...config].filter((n) => !rows.has(n)), "settings missing from docs/configuration.md").toEqual([]);
    expect([...rows].filter((n) => !config.has(n) && !NOT_SERVER.has(n)), "rows naming no setting of server/config.ts").toEqual([]);
    const everywhere = new Set<string>();
    for (const page of PAGES) for (const n of names(readFileSync(join(ROOT, page), "utf8"))) everywhere.add(n);
    expect([...everywhere].filter((n) => !config.has(n) && !NOT_SERVER.has(n)), "HOOKWIRE_* names in the docs that nothing reads").toEqual([]);
  });
});

describe("links", () => {
  /** Pages other branches add (issue 26); linked before they land. */
  const COMING = new Set<string>();

  it("every relative link of the README and docs/ points at a file that exists", () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      const text = readFileSync(join(ROOT, page), "utf8").replace(/```[\s\S]*?```/g, "");
      for (const m of text.matchAll(/\]\(([^)\s#]+)(#[^)\s]*)?\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue;
        const path = join(dirname(page), target);
        if (!existsSync(join(ROOT, path)) && !COMING.has(path)) broken.push(`${page}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
