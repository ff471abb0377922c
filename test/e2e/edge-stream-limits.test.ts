// Streams and what the port tells: an HTTP/2 connection holds at most HOOKWIRE_MAX_STREAMS_PER_CONNECTION streams,
// streams without a key are bounded in number and lifetime, a caller that drops its call is a CANCELLED call (a
// debug line), not an internal error, /metrics can be closed with its own token, and no RPC answer is cacheable.
import { connect as h2connect, constants as h2c, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";
import { connect } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { Health } from "../../server/gen/grpc/health/v1/health_pb.js";
import { envelope, grpcStatus, h2Request, h2Session } from "../helpers/raw.js";
import { bearer, failure, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";

const acme = { headers: bearer(KEYS.acme) };
const METRICS_TOKEN = "scraper-token-0123456789";
const GRPC = { "content-type": "application/grpc", te: "trailers" };
const WATCH = "/grpc.health.v1.Health/Watch";
const WATCH_DELIVERIES = "/hookwire.v1.WebhookService/WatchDeliveries";

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ env: { HOOKWIRE_LOG_LEVEL: "debug", HOOKWIRE_MAX_STREAMS_PER_CONNECTION: "4", HOOKWIRE_METRICS_TOKEN: METRICS_TOKEN } });
});
afterAll(async () => {
  await server?.stop();
});

async function metricsText(s: RunningServer): Promise<string> {
  const res = await fetch(`${s.baseUrl}/metrics`, { headers: bearer(METRICS_TOKEN) });
  expect(res.status).toBe(200);
  return res.text();
}

function rpcCount(text: string, method: string, code: string): number {
  const m = new RegExp(`^hookwire_rpc_requests_total\\{[^}]*method="${method}",code="${code}"\\} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

/** A stream's fate: its response headers arrived, or it was reset with a code. */
function fate(stream: ClientHttp2Stream): Promise<{ status?: number; rst?: number }> {
  return new Promise((resolve) => {
    stream.on("error", () => undefined);
    stream.once("response", (h) => resolve({ status: Number(h[":status"]) }));
    stream.once("close", () => resolve({ rst: stream.rstCode }));
  });
}

describe("streams per HTTP/2 connection", () => {
  it("a client opening more than the limit gets REFUSED_STREAM for the rest; its connection and open streams keep working", async () => {
    // Requests written with the connection's preface reach the server before the client has acknowledged its
    // SETTINGS, as a client ignoring the limit would send them: those over it are refused, one by one.
    const session: ClientHttp2Session = h2connect(server.baseUrl, { peerMaxConcurrentStreams: 1000 });
    session.on("error", () => undefined);
    try {
      const watches = Array.from({ length: 10 }, () => {
        const s = session.request({ ":method": "POST", ":path": WATCH, ...GRPC });
        s.end(envelope(Buffer.alloc(0)));
        return s;
      });
      const fates = await Promise.all(watches.map(fate));
      expect(fates.filter((f) => f.status === 200)).toHaveLength(4);
      expect(fates.filter((f) => f.rst === h2c.NGHTTP2_REFUSED_STREAM)).toHaveLength(6);
      expect(session.remoteSettings.maxConcurrentStreams).toBe(4);
      expect(session.closed || session.destroyed).toBe(false);
      // The open watches still stream, and once one is closed the same connection takes a unary call.
      const open = watches.filter((_, i) => fates[i]!.status === 200);
      const first = await new Promise<Buffer>((r) => open[0]!.once("data", r));
      expect(first.length).toBeGreaterThan(5); // a HealthCheckResponse frame
      open[1]!.close(h2c.NGHTTP2_CANCEL);
      // On Node 22 and 24 (not 20) the server's node:http2 counts a stream its client reset until it has closed it
      // in JavaScript, a moment later: a stream that arrives before then, with the connection at its limit, is reset
      // with ENHANCE_YOUR_CALM. So the check is asked again while it gets that, for at most a second.
      const ask = () => h2Request(session, "/grpc.health.v1.Health/Check", GRPC, envelope(Buffer.alloc(0)));
      let check = await ask();
      for (let tries = 0; check.rstCode === h2c.NGHTTP2_ENHANCE_YOUR_CALM && tries < 20; tries++) {
        await sleep(50);
        check = await ask();
      }
      expect(grpcStatus(check)).toBe("0");
      // Other connections are not affected at all.
      const sig = await grpcClient(server).sign({ body: new TextEncoder().encode("x"), secret: "per-conn-secret-123" }, acme);
      expect(sig.signature).toMatch(/^sha256=/);
    } finally {
      session.destroy();
    }
  });

  it("a client that respects the limit queues its extra streams instead: all of them are answered", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.baseUrl }));
    await client.check({}); // the connection is up and its SETTINGS acknowledged
    const aborts = Array.from({ length: 3 }, () => new AbortController());
    const held = aborts.map((a) => client.watch({}, { signal: a.signal })[Symbol.asyncIterator]());
    await Promise.all(held.map((it) => it.next()));
    const checks = Promise.all(Array.from({ length: 6 }, () => client.check({})));
    expect((await checks).every((c) => c.status === 1)).toBe(true);
    for (const a of aborts) a.abort();
  });
});

describe("a caller that drops its call", () => {
  it("is logged at debug and counted CANCELLED, never an internal error", async () => {
    const before = await metricsText(server);
    const h2Variants: Array<[string, "headers" | "partial" | "full", "cancel" | "destroy"]> = [];
    // Cancelled (RST_STREAM CANCEL, as gRPC clients cancel) once the request is in; the connection dropped at any
    // point. (Node's client cannot cancel mid-request without first ending the request, which a server reads as a
    // complete, truncated request: not a drop.)
    for (const path of [WATCH, WATCH_DELIVERIES]) {
      for (const body of ["headers", "partial", "full"] as const) h2Variants.push([path, body, "destroy"]);
      h2Variants.push([path, "full", "cancel"]);
    }
    /** Waits until the server has counted one more call of `method` as CANCELLED than `was`: this drop is in. */
    const cancelledSoFar = async (method: string) => rpcCount(await metricsText(server), method, "CANCELLED");
    const counted = (method: string, was: number) =>
      waitFor(async () => (await cancelledSoFar(method)) > was, { timeoutMs: 5000, what: `the dropped ${method} counted` });
    /** A request whose body is not all in cannot be answered, so there is no event to wait on: a sleep lets it reach the server before the drop. */
    const unanswerable = () => sleep(150);
    for (const [path, body, end] of h2Variants) {
      const method = path.slice(path.lastIndexOf("/") + 1);
      const was = await cancelledSoFar(method);
      const session = h2Session(server.port);
      const stream = session.request({ ":method": "POST", ":path": path, ...GRPC, ...bearer(KEYS.acme) });
      stream.on("error", () => undefined);
      stream.resume();
      const answered = new Promise((r) => stream.once("response", r));
      if (body === "partial") stream.write(Buffer.from([0, 0, 0]));
      if (body === "full") stream.end(envelope(Buffer.alloc(0)));
      // A whole request is answered (WatchDeliveries once its watch is registered): the call is under way then.
      await (body === "full" ? answered : unanswerable());
      if (end === "cancel") {
        stream.close(h2c.NGHTTP2_CANCEL);
        await counted(method, was); // ended by the cancel, before the connection goes
        session.destroy();
      } else {
        session.destroy();
        await counted(method, was);
      }
    }
    // Over HTTP/1.1 (Connect's streaming protocol): the connection dropped mid-body and mid-stream.
    for (const body of ["\0\0\0", "\0\0\0\0\x02{}"]) {
      const was = await cancelledSoFar("Watch");
      const socket = connect(server.port, "127.0.0.1");
      socket.on("error", () => undefined);
      const answered = new Promise((r) => socket.once("data", r));
      socket.resume();
      socket.write(`POST ${WATCH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/connect+json\r\nContent-Length: 7\r\n\r\n${body}`);
      await (body.length === 7 ? answered : unanswerable());
      socket.destroy();
      await counted("Watch", was);
    }
    // A generated client aborting its watch, once the server has it (its response headers came).
    const was = await cancelledSoFar("WatchDeliveries");
    const abort = new AbortController();
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    const it = grpcClient(server).watchDeliveries({}, { ...acme, signal: abort.signal, onHeader: () => opened() })[Symbol.asyncIterator]();
    const ended = it.next().catch((e: unknown) => ConnectError.from(e));
    await Promise.race([open, ended]);
    abort.abort();
    expect((await ended as ConnectError).code).toBe(Code.Canceled);
    await counted("WatchDeliveries", was);

    const out = server.output();
    expect(out).not.toMatch(/"level":"error"/);
    expect(out).not.toMatch(/internal error/);
    expect(out).not.toMatch(/"level":"warn","msg":"rpc/);
    expect(out).toMatch(/"level":"debug","msg":"rpc failed","procedure":"grpc.health.v1.Health\/Watch","code":"Canceled"/);
    const after = await metricsText(server);
    for (const method of ["Watch", "WatchDeliveries"]) {
      for (const code of ["INTERNAL", "UNKNOWN", "UNIMPLEMENTED", "INVALID_ARGUMENT"]) expect(rpcCount(after, method, code), `${method} ${code}`).toBe(rpcCount(before, method, code));
    }
    // Every dropped call is counted once, as CANCELLED (streams whose body was in, too: they end when the caller goes).
    const cancelled = (m: string) => rpcCount(after, m, "CANCELLED") - rpcCount(before, m, "CANCELLED");
    expect(cancelled("Watch")).toBe(4 + 2);
    expect(cancelled("WatchDeliveries")).toBe(4 + 1);
  });

  it("a streaming call refused at the door is counted once", async () => {
    const before = rpcCount(await metricsText(server), "WatchDeliveries", "UNAUTHENTICATED");
    const err = await failure(grpcClient(server).watchDeliveries({}, { headers: bearer("not-a-key") })[Symbol.asyncIterator]().next());
    expect(err.code).toBe(Code.Unauthenticated);
    expect(rpcCount(await metricsText(server), "WatchDeliveries", "UNAUTHENTICATED") - before).toBe(1);
  });
});

describe("GET /metrics with HOOKWIRE_METRICS_TOKEN", () => {
  it("answers 401 without the token or with an API key, 200 with the token", async () => {
    const none = await fetch(`${server.baseUrl}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
    expect(await none.text()).toMatch(/^metrics: "authorization: Bearer <HOOKWIRE_METRICS_TOKEN>" is required/);
    expect((await fetch(`${server.baseUrl}/metrics`, { headers: bearer(KEYS.acme) })).status).toBe(401);
    expect((await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: METRICS_TOKEN } })).status).toBe(401);
    expect((await fetch(`${server.baseUrl}/metrics`, { method: "HEAD" })).status).toBe(401);
    const ok = await fetch(`${server.baseUrl}/metrics`, { headers: bearer(METRICS_TOKEN) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("cache-control")).toBe("no-store");
    expect(await ok.text()).toMatch(/^hookwire_triggers_total\{tenant="acme"/m);
  });

  it("the token is checked at start: not an API key, long enough, no white space", () => {
    const keys = { HOOKWIRE_API_KEYS: "acme:acme-key-0123456789" };
    expect(() => loadConfig({ ...keys, HOOKWIRE_METRICS_TOKEN: "acme-key-0123456789" })).toThrow(/^HOOKWIRE_METRICS_TOKEN: is one of the API keys/);
    expect(() => loadConfig({ HOOKWIRE_METRICS_TOKEN: "short" })).toThrow(/^HOOKWIRE_METRICS_TOKEN: is 5 characters; use at least 16/);
    expect(() => loadConfig({ HOOKWIRE_METRICS_TOKEN: "a token with spaces in it" })).toThrow(/^HOOKWIRE_METRICS_TOKEN: contains white space/);
    expect(loadConfig({ ...keys, HOOKWIRE_METRICS_TOKEN: METRICS_TOKEN }).metricsToken).toBe(METRICS_TOKEN);
    expect(loadConfig({}).metricsToken).toBeUndefined();
  });
});

describe("cache-control", () => {
  it("every RPC answer says no-store, in every protocol, refusals and streams included", async () => {
    const sign = "/hookwire.v1.WebhookService/Sign";
    const json = JSON.stringify({ body: Buffer.from("x").toString("base64"), secret: "cache-secret-123" });
    const connectJson = await fetch(`${server.baseUrl}${sign}`, { method: "POST", headers: { "content-type": "application/json", ...bearer(KEYS.acme) }, body: json });
    expect(connectJson.status).toBe(200);
    expect(connectJson.headers.get("cache-control")).toBe("no-store");
    const refused = await fetch(`${server.baseUrl}${sign}`, { method: "POST", headers: { "content-type": "application/json" }, body: json });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("cache-control")).toBe("no-store");
    const grpcWeb = await fetch(`${server.baseUrl}/grpc.health.v1.Health/Check`, { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body: envelope(Buffer.alloc(0)) });
    expect(grpcWeb.status).toBe(200);
    expect(grpcWeb.headers.get("cache-control")).toBe("no-store");
    const session = h2Session(server.port);
    try {
      // gRPC: the plain unary path, Connect's path (a deadline), a refusal, and a stream's early headers.
      const plain = await h2Request(session, "/grpc.health.v1.Health/Check", GRPC, envelope(Buffer.alloc(0)));
      const viaConnect = await h2Request(session, "/grpc.health.v1.Health/Check", { ...GRPC, "grpc-timeout": "5S" }, envelope(Buffer.alloc(0)));
      const unauth = await h2Request(session, sign, GRPC, envelope(Buffer.alloc(0)));
      for (const a of [plain, viaConnect, unauth]) expect(a.headers["cache-control"]).toBe("no-store");
      expect(grpcStatus(unauth)).toBe(String(Code.Unauthenticated));
      const watch = session.request({ ":method": "POST", ":path": WATCH_DELIVERIES, ...GRPC, ...bearer(KEYS.acme) });
      watch.end(envelope(Buffer.alloc(0)));
      const headers = await new Promise<Record<string, unknown>>((r) => watch.once("response", r));
      expect(headers["cache-control"]).toBe("no-store");
      watch.close(h2c.NGHTTP2_CANCEL);
    } finally {
      session.destroy();
    }
    // The console's page is revalidated on every load and holds no data; its files are versioned and immutable.
    const page = await fetch(`${server.baseUrl}/console`);
    expect(page.headers.get("cache-control")).toBe("no-cache");
  });
});

describe("streams without a key", () => {
  let pub: RunningServer;
  beforeAll(async () => {
    pub = await startServer({ env: { HOOKWIRE_MAX_PUBLIC_STREAMS: "3", HOOKWIRE_PUBLIC_STREAM_MAX_MS: "1500", HOOKWIRE_MAX_CONNECTIONS: "50" } });
  });
  afterAll(async () => {
    await pub?.stop();
  });

  it("are bounded in number: over the limit RESOURCE_EXHAUSTED naming it, while keyed calls and Check go on; at their lifetime they end OK and room is made", async () => {
    // Over HTTP/2 and over HTTP/1.1 (where each holds a connection).
    const h2 = createClient(Health, createGrpcTransport({ baseUrl: pub.baseUrl }));
    const h1 = createClient(Health, createConnectTransport({ baseUrl: pub.baseUrl, httpVersion: "1.1" }));
    const watches = [h2, h2, h1].map((c) => c.watch({})[Symbol.asyncIterator]());
    for (const w of watches) expect((await w.next()).value?.status).toBe(1);
    const over = await failure(h2.watch({})[Symbol.asyncIterator]().next());
    expect(over.code).toBe(Code.ResourceExhausted);
    expect(over.rawMessage).toMatch(/^HOOKWIRE_MAX_PUBLIC_STREAMS: 3 streams without a key/);
    expect((await h2.check({})).status).toBe(1);
    expect((await grpcClient(pub).sign({ body: new TextEncoder().encode("x"), secret: "public-secret-123" }, acme)).signature).toMatch(/^sha256=/);
    // The lifetime: each watch ends cleanly (done, no error), so health clients watch again.
    const ends = await Promise.all(watches.map((w) => w.next().then((r) => r.done, (e: unknown) => ConnectError.from(e).code)));
    expect(ends).toEqual([true, true, true]);
    const again = h2.watch({})[Symbol.asyncIterator]();
    expect((await again.next()).value?.status).toBe(1);
    await again.return?.();
    // Until the server has counted the three that reached their lifetime (the one opened after them ends at its own, 1.5 s on).
    const text = await waitFor(
      async () => {
        const t = await (await fetch(`${pub.baseUrl}/metrics`)).text();
        return rpcCount(t, "Watch", "OK") >= 3 && t;
      },
      { timeoutMs: 5000, what: "the three ended watches counted" },
    );
    expect(rpcCount(text, "Watch", "OK")).toBe(3);
    expect(rpcCount(text, "Watch", "RESOURCE_EXHAUSTED")).toBe(1);
    expect(pub.output()).not.toMatch(/"level":"(error|warn)","msg":"(rpc|internal)/);
  });

  it("the limits are checked at start", () => {
    expect(() => loadConfig({ HOOKWIRE_MAX_CONNECTIONS: "10", HOOKWIRE_MAX_PUBLIC_STREAMS: "10" })).toThrow(/^HOOKWIRE_MAX_PUBLIC_STREAMS: 10 is not below HOOKWIRE_MAX_CONNECTIONS \(10\)/);
    expect(loadConfig({ HOOKWIRE_MAX_CONNECTIONS: "10" }).publicStreams).toEqual({ max: 5, maxMs: 600_000 });
    expect(loadConfig({}).publicStreams).toEqual({ max: 64, maxMs: 600_000 });
    expect(() => loadConfig({ HOOKWIRE_PUBLIC_STREAM_MAX_MS: "10" })).toThrow(/^HOOKWIRE_PUBLIC_STREAM_MAX_MS: 10 is outside 1000\.\.86400000$/);
    expect(() => loadConfig({ HOOKWIRE_MAX_STREAMS_PER_CONNECTION: "0" })).toThrow(/^HOOKWIRE_MAX_STREAMS_PER_CONNECTION: 0 is outside 1\.\.100000$/);
    expect(loadConfig({}).connections.maxStreamsPerConnection).toBe(100);
  });
});
