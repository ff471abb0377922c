// OpenTelemetry traces (docs/tracing.md), received as a collector receives them: the real server exports over
// OTLP/HTTP to a receiver on 127.0.0.1 that decodes each batch (protobuf through protobufjs and the OTLP protos;
// JSON), while a real webhook receiver checks the traceparent each attempt sends. And without OTEL_*, the server
// loads no part of the OpenTelemetry SDK.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookService } from "@hookwire/sdk/proto";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../helpers/otlp-receiver.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, connectClient, failure, grpcClient, KEYS, startServer, uniqueDatabase, type RunningServer } from "../helpers/server.js";

const RECORD_MODULES = fileURLToPath(new URL("../helpers/record-modules.mjs", import.meta.url));
const SERVER = 2;
const CLIENT = 3;
const json = (v: unknown) => fromJson(ValueSchema, v as never);

/** A caller's own trace: the context it sends as traceparent. */
function callerTrace() {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** Every OTEL_* variable the test run itself might carry, unset, so that only what a test sets counts. */
const NO_OTEL = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith("OTEL_")).map((k) => [k, undefined]));

let otlp: OtlpReceiver;
let rcv: Receiver;
let tmp: string;

beforeAll(async () => {
  otlp = await startOtlpReceiver();
  rcv = await startReceiver();
  tmp = mkdtempSync(join(tmpdir(), "hookwire-tracing-"));
});
afterAll(async () => {
  await otlp.close();
  await rcv.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Traces on, exported to the test's OTLP receiver soon after each span ends. */
function tracingEnv(extra: Record<string, string | undefined> = {}) {
  return {
    ...NO_OTEL,
    HOOKWIRE_ALLOW_PRIVATE_URLS: "true",
    HOOKWIRE_POLL_MS: "100",
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: "100",
    ...extra,
  };
}

const inTrace = (traceId: string) => (s: ReceivedSpan) => s.traceId === traceId;
const loaded = (file: string) => readFileSync(file, "utf8").split("\n").filter((l) => l !== "");

describe("traces on (OTLP http/protobuf, the default)", () => {
  let server: RunningServer;
  const modules = () => join(tmp, "modules-on.txt");

  beforeAll(async () => {
    server = await startServer({ env: tracingEnv({ HOOKWIRE_TEST_MODULES_FILE: modules() }), execArgv: ["--import", RECORD_MODULES] });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("a Trigger's trace runs from the caller's traceparent through the RPC, the store's writes and every attempt, to the receiver", async () => {
    const path = "/traced";
    const register = callerTrace();
    const reg = await grpcClient(server).register(
      { url: rcv.url(path), events: ["order.*"], retries: 2, retryDelayMs: 100 },
      { headers: { ...bearer(KEYS.acme), traceparent: register.traceparent } },
    );
    rcv.route(path, { secret: reg.secret, respond: (n) => (n === 1 ? { status: 503 } : { status: 200 }) });

    const caller = callerTrace();
    const res = await connectClient(server).trigger(
      { event: "order.paid", payload: json({ id: 7 }) },
      { headers: { ...bearer(KEYS.acme), traceparent: caller.traceparent } },
    );
    const [first, second] = await rcv.waitFor((all) => all.filter((r) => r.path === path).length >= 2).then(() => rcv.requests(path));
    const spans = await otlp.waitFor((all) => all.filter(inTrace(caller.traceId)).filter((s) => s.kind === CLIENT).length >= 2 && all.filter(inTrace(caller.traceId)).filter((s) => s.name === "store queue.record").length >= 2);
    const trace = spans.filter(inTrace(caller.traceId));

    // The RPC's span continues the caller's trace, as a child of the caller's span.
    const rpc = trace.find((s) => s.name === "hookwire.v1.WebhookService/Trigger")!;
    expect(rpc).toMatchObject({ kind: SERVER, parentSpanId: caller.spanId, encoding: "protobuf" });
    expect(rpc.attributes).toMatchObject({ "rpc.system": "connect_rpc", "rpc.service": "hookwire.v1.WebhookService", "rpc.method": "Trigger", "rpc.grpc.status_code": 0, "hookwire.tenant": "acme" });
    expect(rpc.resource["service.name"]).toBe("hookwire");

    // The store's write of the message and its delivery: a child of the RPC's span.
    const accept = trace.find((s) => s.name === "store queue.accept")!;
    expect(accept.parentSpanId).toBe(rpc.spanId);

    // Each attempt, the retry included: a client span in the Trigger's trace, with what it got.
    const attempts = trace.filter((s) => s.kind === CLIENT).sort((a, b) => Number(a.attributes["hookwire.attempt"]) - Number(b.attributes["hookwire.attempt"]));
    expect(attempts).toHaveLength(2);
    for (const a of attempts) {
      expect(a.parentSpanId).toBe(rpc.spanId);
      expect(a.attributes).toMatchObject({ "http.request.method": "POST", "url.full": rcv.url(path), "server.address": "127.0.0.1", "hookwire.message.id": res.messageId, "hookwire.subscription.id": reg.subscription!.id });
    }
    expect(attempts[0]!.attributes).toMatchObject({ "hookwire.attempt": 1, "http.response.status_code": 503, "hookwire.outcome": "retry" });
    expect(attempts[0]!.status).toBe(2);
    expect(attempts[1]!.attributes).toMatchObject({ "hookwire.attempt": 2, "http.response.status_code": 200, "hookwire.outcome": "delivered" });
    expect(attempts[1]!.status).not.toBe(2);

    // Each outcome's write is in the same trace.
    expect(trace.filter((s) => s.name === "store queue.record").every((s) => s.parentSpanId === rpc.spanId)).toBe(true);

    // The receiver got each attempt's own context: the Trigger's trace id and the attempt span's id.
    expect(first!.headers.traceparent).toBe(`00-${caller.traceId}-${attempts[0]!.spanId}-01`);
    expect(second!.headers.traceparent).toBe(`00-${caller.traceId}-${attempts[1]!.spanId}-01`);
    expect(first!.verified, first!.verifyError).toBe(true);

    // Register, over gRPC: its span continues that caller's trace, with the subscription's write as its child.
    const registered = await otlp.waitFor((all) => all.filter(inTrace(register.traceId)).length >= 2).then((all) => all.filter(inTrace(register.traceId)));
    const regSpan = registered.find((s) => s.name === "hookwire.v1.WebhookService/Register")!;
    expect(regSpan).toMatchObject({ kind: SERVER, parentSpanId: register.spanId });
    expect(regSpan.attributes["rpc.system"]).toBe("grpc");
    expect(registered.find((s) => s.name === "store subscriptions.insert")?.parentSpanId).toBe(regSpan.spanId);
  });

  it("gRPC-Web calls continue the caller's trace too, and a refusal's span carries its code", async () => {
    const caller = callerTrace();
    const web = createClient(WebhookService, createGrpcWebTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
    const err = await failure(web.getMessage({ id: "msg_0000000000000000000000" }, { headers: { ...bearer(KEYS.acme), traceparent: caller.traceparent } }));
    expect(err.code).toBe(Code.NotFound);
    const [span] = await otlp.waitFor((all) => all.some(inTrace(caller.traceId))).then((all) => all.filter(inTrace(caller.traceId)));
    expect(span).toMatchObject({ name: "hookwire.v1.WebhookService/GetMessage", kind: SERVER, parentSpanId: caller.spanId });
    expect(span!.attributes).toMatchObject({ "hookwire.protocol": "grpc-web", "rpc.grpc.status_code": Code.NotFound });
    // NOT_FOUND answers the caller as designed: not the server's error.
    expect(span!.status).not.toBe(2);
  });

  it("no subscription can set traceparent itself", async () => {
    const err = await failure(grpcClient(server).register({ url: rcv.url("/mine"), events: ["x.y"], headers: { traceparent: "00-abc" } }, { headers: bearer(KEYS.acme) }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/^headers\["traceparent"\]: is set by Hookwire/);
  });

  it("the traced server did load the SDK (so the check below, that an untraced one does not, can tell)", async () => {
    await server.stop();
    expect(loaded(modules()).some((m) => m.includes("/node_modules/@opentelemetry/sdk-trace-node/"))).toBe(true);
  });
});

it("a retry made by another process after a restart is still in the Trigger's trace: the context is stored with the delivery", async () => {
  const database = uniqueDatabase("trace");
  const path = "/restart";
  const env = tracingEnv();
  const before = await startServer({ database, env });
  const reg = await grpcClient(before).register({ url: rcv.url(path), events: ["late.*"], retries: 3, retryDelayMs: 1500 }, { headers: bearer(KEYS.acme) });
  rcv.route(path, { secret: reg.secret, respond: (n) => (n === 1 ? { status: 503 } : { status: 200 }) });
  const caller = callerTrace();
  await grpcClient(before).trigger({ event: "late.one", payload: json({}) }, { headers: { ...bearer(KEYS.acme), traceparent: caller.traceparent } });
  await rcv.waitFor((all) => all.some((r) => r.path === path));
  // Stopped while the retry waits: it is handed back to the store, with its trace context, for any process.
  await before.stop();
  const after = await startServer({ database, env });
  try {
    await rcv.waitFor((all) => all.filter((r) => r.path === path).length >= 2);
    const spans = await otlp.waitFor((all) => all.filter(inTrace(caller.traceId)).filter((s) => s.kind === CLIENT).length >= 2).then((all) => all.filter(inTrace(caller.traceId)));
    const rpc = spans.find((s) => s.kind === SERVER)!;
    const attempts = spans.filter((s) => s.kind === CLIENT).sort((a, b) => Number(a.attributes["hookwire.attempt"]) - Number(b.attributes["hookwire.attempt"]));
    expect(attempts.map((a) => a.parentSpanId)).toEqual([rpc.spanId, rpc.spanId]);
    // Two processes made them.
    expect(attempts[0]!.resource["process.pid"]).toBe(before.child.pid);
    expect(attempts[1]!.resource["process.pid"]).toBe(after.child.pid);
    expect(rcv.requests(path)[1]!.headers.traceparent).toBe(`00-${caller.traceId}-${attempts[1]!.spanId}-01`);
  } finally {
    await after.stop();
  }
});

it("http/json works too, OTEL_SERVICE_NAME names the service, and each worker process exports its own spans", async () => {
  const server = await startServer({
    env: tracingEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_SERVICE_NAME: "hookwire-json", OTEL_TRACES_SAMPLER: "always_on", HOOKWIRE_WORKERS: "2" }),
  });
  try {
    const caller = callerTrace();
    await connectClient(server).sign({ body: new TextEncoder().encode("x"), secret: "s" }, { headers: { ...bearer(KEYS.acme), traceparent: caller.traceparent } });
    const [span] = await otlp.waitFor((all) => all.some(inTrace(caller.traceId))).then((all) => all.filter(inTrace(caller.traceId)));
    expect(span).toMatchObject({ name: "hookwire.v1.WebhookService/Sign", parentSpanId: caller.spanId, encoding: "json" });
    expect(span!.resource["service.name"]).toBe("hookwire-json");
    const pids = [...server.output().matchAll(/"msg":"traces on: exporting spans over OTLP".*?"pid":(\d+)/g)].map((m) => Number(m[1]));
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(server.child.pid);
  } finally {
    await server.stop();
  }
});

it("without OTEL_*, the server loads no part of the OpenTelemetry SDK and sends no traceparent", async () => {
  const file = join(tmp, "modules-off.txt");
  const server = await startServer({ env: { ...NO_OTEL, HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_TEST_MODULES_FILE: file }, execArgv: ["--import", RECORD_MODULES] });
  const path = "/untraced";
  try {
    const reg = await grpcClient(server).register({ url: rcv.url(path), events: ["plain.*"] }, { headers: bearer(KEYS.acme) });
    rcv.route(path, { secret: reg.secret });
    await connectClient(server).trigger({ event: "plain.one", payload: json({}) }, { headers: { ...bearer(KEYS.acme), traceparent: callerTrace().traceparent } });
    const [got] = await rcv.waitFor((all) => all.some((r) => r.path === path)).then(() => rcv.requests(path));
    expect(got!.headers.traceparent).toBeUndefined();
  } finally {
    await server.stop();
  }
  const modules = loaded(file);
  // The recording saw the server's own packages (it works in this process), and nothing of OpenTelemetry's but
  // its API package, which prom-client requires whatever we do (for exemplars; without an SDK every call of it
  // is a no-op): no SDK, exporter or context manager, and not the server's own module that starts them.
  expect(modules.some((m) => m.includes("/node_modules/undici/"))).toBe(true);
  expect(modules.some((m) => m.includes("/node_modules/prom-client/"))).toBe(true);
  const otel = modules.filter((m) => (m.includes("/node_modules/@opentelemetry/") && !m.includes("/node_modules/@opentelemetry/api/")) || /\/otel-[^/]*\.mjs$/.test(m));
  expect(otel).toEqual([]);
});
