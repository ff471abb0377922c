// Health checking and server reflection, probed the way operators do: grpc_health_probe, grpcurl, grpc-js.
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFerretDB } from "../../server/dev/embedded-ferretdb.js";
import { freePort } from "../helpers/free-port.js";
import { KEYS, startServer, uniqueDatabase, type RunningServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
let bin = "";
let server: RunningServer;

beforeAll(async () => {
  const tools = spawnSync("bash", ["scripts/install-grpc-tools.sh"], { cwd: ROOT, encoding: "utf8" });
  expect(tools.status, tools.stderr).toBe(0);
  bin = tools.stdout.trim();
  server = await startServer();
}, 600_000);
afterAll(async () => {
  await server?.stop();
});

/** grpc_health_probe's verdict (it prints to stderr) and exit code. */
function probe(port: number, ...args: string[]): Promise<{ out: string; code: number }> {
  return run(join(bin, "grpc-health-probe"), [`-addr=127.0.0.1:${port}`, "-connect-timeout=2s", "-rpc-timeout=5s", ...args]).then(
    (r) => ({ out: (r.stdout + r.stderr).trim(), code: 0 }),
    (e: { stdout: string; stderr: string; code: number }) => ({ out: (e.stdout + e.stderr).trim(), code: e.code }),
  );
}

it("grpc_health_probe reports SERVING without an API key", async () => {
  expect(await probe(server.port)).toEqual({ out: "status: SERVING", code: 0 });
  expect(await probe(server.port, "-service=hookwire.v1.WebhookService")).toEqual({ out: "status: SERVING", code: 0 });
  const unknown = await probe(server.port, "-service=nope.Service");
  expect(unknown.code).not.toBe(0);
  expect(unknown.out).toMatch(/NotFound/);
});

it("grpcurl lists and describes the API through reflection, and calls it", async () => {
  const addr = `127.0.0.1:${server.port}`;
  const list = await run(join(bin, "grpcurl"), ["-plaintext", addr, "list"]);
  expect(list.stdout.split("\n")).toEqual(expect.arrayContaining(["hookwire.v1.WebhookService", "grpc.health.v1.Health"]));
  const desc = await run(join(bin, "grpcurl"), ["-plaintext", addr, "describe", "hookwire.v1.WebhookService"]);
  expect(desc.stdout).toContain("rpc Trigger ( .hookwire.v1.TriggerRequest ) returns ( .hookwire.v1.TriggerResponse );");
  const msg = await run(join(bin, "grpcurl"), ["-plaintext", addr, "describe", "hookwire.v1.Delivery"]);
  expect(msg.stdout).toContain("repeated .hookwire.v1.DeliveryAttempt attempts = 7;");
  const sign = await run(join(bin, "grpcurl"), [
    "-plaintext",
    "-H",
    `authorization: Bearer ${KEYS.acme}`,
    "-d",
    JSON.stringify({ body: Buffer.from("Hello, World!").toString("base64"), secret: "It's a Secret to Everybody" }),
    addr,
    "hookwire.v1.WebhookService/Sign",
  ]);
  expect(JSON.parse(sign.stdout)).toEqual({ signature: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" });
});

it("serves reflection v1alpha to grpc-js clients too", async () => {
  const def = protoLoader.loadSync("grpc/reflection/v1alpha/reflection.proto", { includeDirs: [join(ROOT, "third_party/proto")], keepCase: true, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { reflection: { v1alpha: { ServerReflection: new (a: string, c: grpc.ChannelCredentials) => grpc.Client & { ServerReflectionInfo(): grpc.ClientDuplexStream<object, Record<string, unknown>> } } } };
  };
  const client = new pkg.grpc.reflection.v1alpha.ServerReflection(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  const call = client.ServerReflectionInfo();
  const replies: Array<Record<string, unknown>> = [];
  const done = new Promise<void>((r) => call.on("end", () => r()));
  call.on("data", (d: Record<string, unknown>) => replies.push(d));
  call.write({ list_services: "" });
  call.write({ file_containing_symbol: "hookwire.v1.WebhookService.Trigger" });
  call.write({ file_by_filename: "no/such.proto" });
  call.end();
  await done;
  client.close();
  const names = (replies[0]!.list_services_response as { service: Array<{ name: string }> }).service.map((s) => s.name);
  expect(names).toEqual(expect.arrayContaining(["hookwire.v1.WebhookService", "grpc.reflection.v1alpha.ServerReflection"]));
  const files = (replies[1]!.file_descriptor_response as { file_descriptor_proto: Buffer[] }).file_descriptor_proto;
  expect(files.length).toBeGreaterThanOrEqual(5); // the service file and what it imports
  expect(files[0]!.toString("latin1")).toContain("hookwire/v1/webhook_service.proto");
  expect((replies[2]!.error_response as { error_code: number }).error_code).toBe(5);
});

it("reports NOT_SERVING while MongoDB is down, and SERVING once it is back", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hookwire-health-"));
  const port = await freePort();
  let db = await startFerretDB({ dir, port });
  const own = await startServer({ database: uniqueDatabase("health"), env: { MONGODB_URI: db.uri } });
  try {
    expect((await probe(own.port)).out).toBe("status: SERVING");
    await db.stop();
    // Within a second or so (the status is cached for one second): probed until it says so.
    let down = { out: "", code: 0 };
    await waitFor(async () => /NOT_SERVING/.test((down = await probe(own.port)).out), { timeoutMs: 10_000, intervalMs: 200, what: () => `NOT_SERVING (last: ${down.out})` });
    expect(down.out).toMatch(/NOT_SERVING/);
    expect(down.code).not.toBe(0);
    db = await startFerretDB({ dir, port });
    let status = "";
    await waitFor(async () => (status = (await probe(own.port)).out) === "status: SERVING", { timeoutMs: 15_000, intervalMs: 500, what: () => `SERVING again (last: ${status})` });
    expect(status).toBe("status: SERVING");
  } finally {
    await own.stop();
    await db.stop();
  }
});
