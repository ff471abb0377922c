// A plain @grpc/grpc-js client that knows only the .proto files: proof that any gRPC client works.
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, expect, it } from "vitest";
import { KEYS, startServer, type RunningServer } from "../helpers/server.js";

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;
type Unary = (req: object, md: grpc.Metadata, cb: Callback<Record<string, unknown>>) => void;

let server: RunningServer;
let stub: grpc.Client & Record<string, Unary>;

beforeAll(async () => {
  server = await startServer();
  const def = protoLoader.loadSync("hookwire/v1/webhook_service.proto", {
    includeDirs: [fileURLToPath(new URL("../../proto", import.meta.url))],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    hookwire: { v1: { WebhookService: new (addr: string, creds: grpc.ChannelCredentials) => typeof stub } };
  };
  stub = new pkg.hookwire.v1.WebhookService(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
});
afterAll(async () => {
  stub?.close();
  await server.stop();
});

function call(method: string, req: object, key: string = KEYS.acme): Promise<Record<string, unknown>> {
  const md = new grpc.Metadata();
  if (key) md.set("authorization", `Bearer ${key}`);
  return new Promise((resolveCall, reject) => {
    const fn = stub[method];
    if (!fn) throw new Error(`no method ${method}`);
    fn.call(stub, req, md, (err, res) => (err ? reject(err) : resolveCall(res)));
  });
}

it("registers, reads back, signs and verifies with a grpc-js client", async () => {
  const reg = await call("Register", { url: "http://127.0.0.1:9/grpc", events: ["order.*"] });
  expect(reg.secret).toMatch(/^whsec_/);
  const sub = reg.subscription as { id: string; url: string; events: string[]; created_at: { seconds: string } };
  expect(sub.url).toBe("http://127.0.0.1:9/grpc");
  expect(sub.events).toEqual(["order.*"]);
  expect(Number(sub.created_at.seconds)).toBeGreaterThan(1_700_000_000);
  const got = await call("GetSubscription", { id: sub.id });
  expect((got.subscription as { id: string }).id).toBe(sub.id);
  const list = await call("ListSubscriptions", { page_size: 10 });
  expect((list.subscriptions as unknown[]).length).toBeGreaterThanOrEqual(1);

  const body = Buffer.from("Hello, World!");
  const signed = await call("Sign", { body, secret: "It's a Secret to Everybody" });
  expect(signed.signature).toBe("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  const ts = Math.floor(Date.now() / 1000);
  const std = await call("Sign", {
    body,
    secret: reg.secret,
    scheme: "SIGNATURE_SCHEME_STANDARD_WEBHOOKS",
    webhook_id: "msg_1",
    timestamp: String(ts),
  });
  expect(std.signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  const ok = await call("Verify", {
    body,
    secret: reg.secret,
    signature: std.signature,
    scheme: "SIGNATURE_SCHEME_STANDARD_WEBHOOKS",
    webhook_id: "msg_1",
    timestamp: String(ts),
    tolerance_seconds: "60",
  });
  expect(ok).toEqual({ valid: true, reason: "" });
});

it("answers gRPC status codes to grpc-js", async () => {
  await expect(call("ListSubscriptions", {}, "")).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  await expect(call("Register", { url: "gopher://x", events: ["a"] })).rejects.toMatchObject({
    code: grpc.status.INVALID_ARGUMENT,
    details: expect.stringMatching(/^url: /),
  });
  await expect(call("GetSubscription", { id: "sub_0000000000000000000000000000a" })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
});

it("answers the same whether a call takes the plain gRPC path or goes through Connect (a deadline, a compressed message)", async () => {
  // Plain calls are answered by server/api/http/grpc-unary.ts; a deadline (grpc-timeout) or gzip sends them through Connect.
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${KEYS.acme}`);
  const req = { body: Buffer.from("Hello, World!"), secret: "It's a Secret to Everybody" };
  const expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  const signWithOptions = stub.Sign as unknown as (req: object, md: grpc.Metadata, options: grpc.CallOptions, cb: Callback<Record<string, unknown>>) => void;
  const withDeadline = await new Promise<Record<string, unknown>>((ok, fail) =>
    signWithOptions.call(stub, req, md, { deadline: Date.now() + 5000 }, (err, res) => (err ? fail(err) : ok(res))),
  );
  expect(withDeadline.signature).toBe(expected);
  const def = protoLoader.loadSync("hookwire/v1/webhook_service.proto", { includeDirs: [fileURLToPath(new URL("../../proto", import.meta.url))], keepCase: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    hookwire: { v1: { WebhookService: new (addr: string, creds: grpc.ChannelCredentials, options: object) => typeof stub } };
  };
  const gzipped = new pkg.hookwire.v1.WebhookService(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": 2 });
  try {
    const viaGzip = await new Promise<Record<string, unknown>>((ok, fail) => gzipped.Sign!.call(gzipped, req, md, (err, res) => (err ? fail(err) : ok(res))));
    expect(viaGzip.signature).toBe(expected);
    // Errors on both paths: the message names the field, percent-encoded as the gRPC spec says.
    for (const client of [stub, gzipped]) {
      const err = await new Promise<grpc.ServiceError>((ok) => client.Register!.call(client, { url: "gopher://x", events: ["a"] }, md, (e) => ok(e!)));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/^url: /);
    }
  } finally {
    gzipped.close();
  }
});
