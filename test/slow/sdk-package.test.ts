// @hookwire/sdk as a user installs it: `npm pack` of sdk/ (its prepack builds it), the tarball installed
// into a fresh app outside the repo, and a TypeScript (type-checked), an ESM and a CommonJS app run
// against a real server; the installed web entry's module graph imports nothing, and the repository's
// internal entry is not there for an app.
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { moduleGraph } from "../helpers/module-graph.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const APPS = fileURLToPath(new URL("../package-apps/", import.meta.url));

let dir: string;
let app: string;
let server: RunningServer;
let rcv: Receiver;

async function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd, env: { ...process.env, ...env }, timeout: 240_000, maxBuffer: 16 << 20 });
    return stdout;
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
}

const lastJson = (out: string): Record<string, unknown> => JSON.parse(out.trim().split("\n").at(-1) ?? "") as Record<string, unknown>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hookwire-sdk-package-"));
  app = join(dir, "app");
  await sh("npm", ["pack", "--pack-destination", dir, "--silent"], join(ROOT, "sdk"));
  const tarball = readdirSync(dir).find((f) => /^hookwire-sdk-.*\.tgz$/.test(f));
  if (!tarball) throw new Error(`npm pack left no hookwire-sdk-*.tgz in ${dir}`);
  cpSync(APPS, app, { recursive: true });
  cpSync(join(ROOT, "examples/node/seed-app.mjs"), join(app, "app.mjs"));
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "hookwire-sdk-user", private: true, type: "module" }));
  // The versions this repo pins, for the TypeScript app's type check; the SDK's own dependencies come from its tarball.
  await sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", join(dir, tarball), "typescript@5.9.3", "@types/node@20.19.43"], app);
  rcv = await startReceiver();
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true" } });
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await rcv?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the packed SDK, installed outside the repo", () => {
  it("brings only the client's dependencies, and its built files", () => {
    const mods = join(app, "node_modules");
    for (const dep of ["@connectrpc/connect", "@connectrpc/connect-node", "@bufbuild/protobuf"]) expect(existsSync(join(mods, dep)), dep).toBe(true);
    for (const serverDep of ["mongodb", "undici", "tsx", "@grpc/grpc-js"]) expect(existsSync(join(mods, serverDep)), serverDep).toBe(false);
    const sdk = join(mods, "@hookwire/sdk");
    expect(readdirSync(sdk).sort()).toEqual(["CHANGELOG.md", "README.md", "dist", "package.json"]);
    for (const f of ["index.js", "index.d.ts", "node/index.js", "node/index.d.ts", "web/index.js", "web/index.d.ts", "proto.js"]) expect(existsSync(join(sdk, "dist", f)), f).toBe(true);
    expect(existsSync(join(sdk, "dist", "internal.js"))).toBe(false);
  });

  it("resolves the published entries only (./verify, a contract name, as the web entry): the internal one and those 0.3.0 removed are not exported", async () => {
    const specs = ["@hookwire/sdk", "@hookwire/sdk/node", "@hookwire/sdk/web", "@hookwire/sdk/proto", "@hookwire/sdk/internal", "@hookwire/sdk/payload", "@hookwire/sdk/verify", "@hookwire/sdk/signature"];
    const script = `const out = {}; for (const s of ${JSON.stringify(specs)}) { try { await import(s); out[s] = "ok"; } catch (e) { out[s] = e.code; } } console.log(JSON.stringify(out));`;
    const out = lastJson(await sh(process.execPath, ["--input-type=module", "-e", script], app));
    // ./verify is ./web under its first name: the same module, so the same functions.
    const same = `const [a, b] = await Promise.all([import("@hookwire/sdk/verify"), import("@hookwire/sdk/web")]); console.log(JSON.stringify({ same: Object.keys(a).length > 0 && Object.keys(a).every((k) => a[k] === b[k]) }));`;
    expect(lastJson(await sh(process.execPath, ["--input-type=module", "-e", same], app))).toEqual({ same: true });
    expect(out).toEqual({
      "@hookwire/sdk": "ok",
      "@hookwire/sdk/node": "ok",
      "@hookwire/sdk/web": "ok",
      "@hookwire/sdk/proto": "ok",
      "@hookwire/sdk/internal": "ERR_PACKAGE_PATH_NOT_EXPORTED",
      "@hookwire/sdk/payload": "ERR_PACKAGE_PATH_NOT_EXPORTED",
      "@hookwire/sdk/verify": "ok",
      "@hookwire/sdk/signature": "ERR_PACKAGE_PATH_NOT_EXPORTED",
    });
  });

  it("has a web entry whose module graph imports nothing, Node or other", () => {
    const entry = join(app, "node_modules/@hookwire/sdk/dist/web/index.js");
    const graph = moduleGraph(entry, (from, spec) => resolve(dirname(from), spec));
    expect(graph.files.length).toBeGreaterThan(2);
    expect(graph.external).toEqual([]);
    const main = moduleGraph(join(app, "node_modules/@hookwire/sdk/dist/index.js"), (from, spec) => resolve(dirname(from), spec));
    expect(main.external).toContain("node:crypto");
  });

  it("runs a type-checked TypeScript app", async () => {
    rcv.route("/ts", { respond: () => ({ status: 200 }) });
    rcv.route("/refuse", { respond: () => ({ status: 422, body: "no" }) });
    await sh(join(app, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], app);
    const out = lastJson(
      await sh(process.execPath, ["out/app.js"], app, {
        HOOKWIRE_URL: server.baseUrl,
        HOOKWIRE_API_KEY: KEYS.acme,
        TARGET_URL: rcv.url("/ts"),
        REFUSING_URL: rcv.url("/refuse"),
      }),
    );
    expect(out).toMatchObject({
      language: "typescript",
      attempts: 1,
      status: "delivered",
      secret: true,
      created: true,
      payload: { n: 1 },
      errors: ["invalid:url", "not-found", "unauthenticated", "delivery-failed:422"],
      clientListed: true,
      typeName: "hookwire.v1.WebhookService",
      verified: true,
      nodeVerified: "standard-webhooks",
    });
    expect((out.message as { createdAt: string }).createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const sent = rcv.requests("/ts").filter((r) => (JSON.parse(r.body) as { event: string }).event === "app.ts");
    expect(sent).toHaveLength(2);
  });

  it("runs the seed interface's ESM app unchanged", async () => {
    rcv.route("/esm", { respond: () => ({ status: 200 }) });
    const out = lastJson(await sh(process.execPath, ["app.mjs"], app, { HOOKWIRE_URL: server.baseUrl, HOOKWIRE_API_KEY: KEYS.acme, TARGET_URL: rcv.url("/esm") }));
    expect(out).toMatchObject({ language: "esm", sent: true });
    expect(rcv.requests("/esm")).toHaveLength(1);
  });

  it("runs a CommonJS app with require()", async () => {
    rcv.route("/cjs", { respond: () => ({ status: 200 }) });
    const out = lastJson(await sh(process.execPath, ["app.cjs"], app, { HOOKWIRE_URL: server.baseUrl, HOOKWIRE_API_KEY: KEYS.acme, TARGET_URL: rcv.url("/cjs") }));
    expect(out).toEqual({ language: "commonjs", status: "delivered", web: true, unreachable: "unavailable" });
    expect(rcv.requests("/cjs")).toHaveLength(1);
  });
});
