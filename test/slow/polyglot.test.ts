// The Go module (go/) and the Python package (python/) as users install them, against a real server:
// a fresh Go module and a fresh venv in temporary folders outside the repo, each running the example
// caller (examples/go/main.go, examples/python/example.py), which signs every vector exactly as the
// TypeScript client and the signature module do.
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignatureScheme } from "@hookwire/sdk/proto";
import { signGithub, signStandard } from "@hookwire/sdk/internal";
import { bearer, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { vectors } from "../vectors/index.js";

const run = promisify(execFile);
const path = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
const ROOT = path("../..");
const opts = { headers: bearer(KEYS.acme) };
const enc = (s: string) => new TextEncoder().encode(s);
const expected = [...vectors.github, ...vectors.standard_webhooks].map((v) => v.signature);

interface CallerResult {
  language: string;
  subscription_id: string;
  message_id: string;
  portal_url: string;
  signatures: string[];
}

let server: RunningServer | undefined;
let go: CallerResult;
let python: CallerResult;
let work: string | undefined;

/** Runs a setup step; on failure the error carries its output. */
async function step(cmd: string, args: string[], cwd: string, timeout = 300_000): Promise<string> {
  try {
    return (await run(cmd, args, { cwd, timeout, env: cleanEnv() })).stdout;
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
}

/** The environment without anything that would let a caller find the repo's code other than by installing it. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.PYTHONPATH;
  delete env.VIRTUAL_ENV;
  delete env.GOWORK;
  delete env.GOFLAGS;
  return { ...env, GOFLAGS: "-buildvcs=false", GOWORK: "off", PIP_DISABLE_PIP_VERSION_CHECK: "1" };
}

/** Runs one example program against the server and parses the JSON line it ends with. */
async function runCaller(cmd: string, args: string[], cwd: string, port: number): Promise<CallerResult> {
  const env = {
    ...cleanEnv(),
    HOOKWIRE_ADDR: `127.0.0.1:${port}`,
    HOOKWIRE_API_KEY: KEYS.acme,
    WEBHOOK_URL: "http://127.0.0.1:9/hook",
    VECTORS: path("../vectors/signatures.json"),
  };
  try {
    const { stdout } = await run(cmd, args, { cwd, env, timeout: 200_000 });
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as CallerResult;
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
}

/** A fresh venv outside the repo with `pip install <repo>/python`, as a user installs the package; its python. */
async function installPython(dir: string): Promise<string> {
  await step("python3", ["-m", "venv", join(dir, "venv")], dir);
  const py = join(dir, "venv", "bin", "python");
  await step(py, ["-m", "pip", "install", "--quiet", "--no-input", join(ROOT, "python")], dir);
  return py;
}

/** A fresh Go module outside the repo that depends on github.com/hookwire/hookwire/go through a replace. */
async function prepareGo(dir: string): Promise<void> {
  await step("go", ["mod", "init", "example.com/app"], dir);
  await step("go", ["mod", "edit", "-require=github.com/hookwire/hookwire/go@v0.0.0", `-replace=github.com/hookwire/hookwire/go=${join(ROOT, "go")}`], dir);
  await copyFile(path("../../examples/go/main.go"), join(dir, "main.go"));
  await step("go", ["mod", "tidy"], dir);
  // Compiled before the server starts, so the run itself is quick (the first build of grpc-go takes a minute or two).
  await step("go", ["build", "-o", "app", "."], dir);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "hookwire-polyglot-"));
  const goDir = await mkdtemp(join(work, "go-"));
  const pyDir = await mkdtemp(join(work, "py-"));
  const [, venvPython] = await Promise.all([prepareGo(goDir), installPython(pyDir)]);
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true" } });
  [go, python] = await Promise.all([
    runCaller(join(goDir, "app"), [], goDir, server.port),
    runCaller(venvPython, [path("../../examples/python/example.py")], pyDir, server.port),
  ]);
}, 480_000);

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the Go module and the Python package, installed outside the repo", () => {
  it("give every vector's signature, as the TypeScript client and the signature module do", async () => {
    const client = grpcClient(server!);
    const viaRpc: string[] = [];
    for (const v of vectors.github) {
      viaRpc.push((await client.sign({ body: enc(v.body), secret: v.secret, scheme: SignatureScheme.GITHUB }, opts)).signature);
    }
    for (const v of vectors.standard_webhooks) {
      const req = { body: enc(v.body), secret: v.secret, scheme: SignatureScheme.STANDARD_WEBHOOKS, webhookId: v.webhook_id, timestamp: BigInt(v.timestamp) };
      viaRpc.push((await client.sign(req, opts)).signature);
    }
    const viaModule = [
      ...vectors.github.map((v) => signGithub(v.body, v.secret)),
      ...vectors.standard_webhooks.map((v) => signStandard(v.webhook_id, v.timestamp, v.body, v.secret)),
    ];

    expect(go.language).toBe("go");
    expect(python.language).toBe("python");
    expect(go.signatures).toEqual(expected);
    expect(python.signatures).toEqual(expected);
    expect(viaRpc).toEqual(expected);
    expect(viaModule).toEqual(expected);
  });

  it("register a customer's endpoint and trigger for that customer, in the key's tenant", async () => {
    const client = grpcClient(server!);
    for (const [caller, from] of [[go, "go"], [python, "python"]] as const) {
      expect(caller.subscription_id).toMatch(/^sub_/);
      const { subscription } = await client.getSubscription({ id: caller.subscription_id }, opts);
      expect(subscription).toMatchObject({ id: caller.subscription_id, url: "http://127.0.0.1:9/hook", events: ["example.*"], owner: "customer-42" });
      const { message } = await client.getMessage({ id: caller.message_id }, opts);
      expect(message?.event).toBe("example.created");
      expect(message?.owner).toBe("customer-42");
      // Both callers register customer-42's endpoint in one tenant: each Trigger reaches the ones registered by then.
      expect(message?.deliveries).toBeGreaterThanOrEqual(1);
      expect(message?.payload && toJson(ValueSchema, message.payload)).toEqual({ from });
    }
  });

  it("open a customer portal session for that customer: its url carries a token for that owner", async () => {
    const client = grpcClient(server!);
    for (const caller of [go, python]) {
      const m = new RegExp(`^http://127\\.0\\.0\\.1:${server!.port}/portal#token=(hwp_[A-Za-z0-9_-]{43})$`).exec(caller.portal_url);
      expect(m, caller.portal_url).not.toBeNull();
      expect((await client.getPortalSession({}, { headers: bearer(m![1]!) })).owner).toBe("customer-42");
    }
  });
});
