// The Go and Python example callers (examples/), generated from the same .proto files, against a real
// server: they sign every vector exactly as the TypeScript client and the signature module do.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignatureScheme } from "../sdk/gen/hookwire/v1/signature_pb.js";
import { signGithub, signStandard } from "../sdk/signature.js";
import { bearer, grpcClient, KEYS, startServer, type RunningServer } from "./helpers/server.js";
import { vectors } from "./vectors/index.js";

const run = promisify(execFile);
const path = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
const ROOT = path("..");
const opts = { headers: bearer(KEYS.acme) };
const enc = (s: string) => new TextEncoder().encode(s);
const expected = [...vectors.github, ...vectors.standard_webhooks].map((v) => v.signature);

interface CallerResult {
  language: string;
  subscription_id: string;
  message_id: string;
  signatures: string[];
}

let server: RunningServer | undefined;
let go: CallerResult;
let python: CallerResult;

/** Runs one example program against the server and parses the JSON line it ends with. */
async function runCaller(cmd: string, args: string[], cwd: string, port: number): Promise<CallerResult> {
  const env = {
    ...process.env,
    HOOKWIRE_ADDR: `127.0.0.1:${port}`,
    HOOKWIRE_API_KEY: KEYS.acme,
    WEBHOOK_URL: "http://127.0.0.1:9/hook",
    VECTORS: path("./vectors/signatures.json"),
  };
  try {
    const { stdout } = await run(cmd, args, { cwd, env, timeout: 200_000 });
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as CallerResult;
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
}

beforeAll(async () => {
  // Installs the pinned Python packages into a cache venv (first run only) and names its python.
  let venvPython: string;
  try {
    const { stdout } = await run("bash", [path("../scripts/setup-polyglot.sh")], { cwd: ROOT, timeout: 300_000 });
    venvPython = stdout.trim().split("\n").at(-1) ?? "";
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(
      `scripts/setup-polyglot.sh failed, so the Go and Python examples cannot run; they need Go and python3 with venv:\n${err.stderr ?? err.message}`,
    );
  }
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true" } });
  // The first `go run` compiles grpc-go, which takes a minute or two on a small machine.
  [go, python] = await Promise.all([
    runCaller("go", ["run", "."], path("../examples/go"), server.port),
    runCaller(venvPython, ["example.py"], path("../examples/python"), server.port),
  ]);
}, 480_000);

afterAll(async () => {
  await server?.stop();
});

describe("the Go and Python example callers", () => {
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

  it("register and trigger for the key's tenant", async () => {
    const client = grpcClient(server!);
    for (const [caller, from] of [[go, "go"], [python, "python"]] as const) {
      expect(caller.subscription_id).toMatch(/^sub_/);
      const { subscription } = await client.getSubscription({ id: caller.subscription_id }, opts);
      expect(subscription).toMatchObject({ id: caller.subscription_id, url: "http://127.0.0.1:9/hook", events: ["example.*"] });
      const { message } = await client.getMessage({ id: caller.message_id }, opts);
      expect(message?.event).toBe("example.created");
      expect(message?.payload && toJson(ValueSchema, message.payload)).toEqual({ from });
    }
  });
});
