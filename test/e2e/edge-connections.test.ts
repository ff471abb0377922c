// Connections to the shared port are not held for ever: idle ones, slowloris headers and slow bodies are closed
// at their (here shortened) timeouts without stopping normal calls, long server streams run on, and
// connections over the cap are closed as they arrive.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, expect, it } from "vitest";
import { WebhookService } from "@hookwire/sdk/proto";
import { h2Session, holdSocket, type HeldSocket } from "../helpers/raw.js";
import { bearer, connectClient, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";

const acme = { headers: bearer(KEYS.acme) };
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function serve(env: Record<string, string>): Promise<RunningServer> {
  const s = await startServer({ env });
  cleanup.push(() => s.stop());
  return s;
}

/** Sends one byte of `text` every intervalMs until it runs out or the connection closes. */
function drip(held: HeldSocket, text: string, intervalMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (i >= text.length || held.socket.destroyed) return clearInterval(timer);
    held.socket.write(text[i++]!);
  }, intervalMs);
  cleanup.push(() => clearInterval(timer));
}

async function normalCalls(server: RunningServer, n: number): Promise<void> {
  const grpc = grpcClient(server);
  const connect = connectClient(server);
  const body = new TextEncoder().encode("hello");
  for (let i = 0; i < n; i++) {
    const client = i % 2 ? grpc : connect;
    const res = await client.sign({ body, secret: "normal-secret-123" }, acme);
    expect(res.signature).toMatch(/^sha256=/);
  }
}

it("idle, slowloris and slow-body connections over HTTP/1.1 and HTTP/2 are closed at their timeouts while normal calls and a long watch go on", async () => {
  const server = await serve({ HOOKWIRE_HEADERS_TIMEOUT_MS: "1000", HOOKWIRE_REQUEST_TIMEOUT_MS: "2000", HOOKWIRE_IDLE_TIMEOUT_MS: "1500" });
  // A watch opened first must outlive every timeout: the request timeout is about receiving the request.
  const watchAbort = new AbortController();
  cleanup.push(() => watchAbort.abort());
  const watch = grpcClient(server).watchDeliveries({}, { ...acme, signal: watchAbort.signal })[Symbol.asyncIterator]();
  const watchEnded = watch.next().then(
    () => "ended",
    (err: unknown) => (watchAbort.signal.aborted ? "aborted" : `failed: ${String(err)}`),
  );

  const sign = "/hookwire.v1.WebhookService/Sign";
  const idle = await Promise.all(Array.from({ length: 200 }, () => holdSocket(server.port)));
  const slowHeaders = await Promise.all(Array.from({ length: 60 }, () => holdSocket(server.port, `POST ${sign} HTTP/1.1\r\nHost: x\r\n`)));
  for (const h of slowHeaders) drip(h, "X-Slow: " + "a".repeat(200), 200);
  const slowBodies = await Promise.all(
    Array.from({ length: 60 }, () =>
      holdSocket(server.port, `POST ${sign} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.acme}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n`),
    ),
  );
  for (const h of slowBodies) drip(h, " ".repeat(200), 200);
  const preface = Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);
  const h2Idle = await Promise.all(Array.from({ length: 40 }, () => holdSocket(server.port, preface)));
  const h2Partial = await Promise.all(Array.from({ length: 40 }, () => holdSocket(server.port, preface.subarray(0, 10))));
  // HTTP/2 streams whose body trickles in, on sessions of their own.
  const h2Slow = Array.from({ length: 20 }, () => {
    const session = h2Session(server.port);
    cleanup.push(() => session.destroy());
    const stream = session.request({ ":method": "POST", ":path": sign, "content-type": "application/json", ...bearer(KEYS.acme) });
    stream.on("error", () => undefined);
    const timer = setInterval(() => !stream.destroyed && stream.write(" "), 200);
    cleanup.push(() => clearInterval(timer));
    const started = Date.now();
    return {
      stream: new Promise<number>((r) => stream.once("close", () => r(Date.now() - started))),
      session: new Promise<number>((r) => session.once("close", () => r(Date.now() - started))),
    };
  });

  // With all of that open, normal calls are answered.
  await normalCalls(server, 20);

  const within = async (what: string, held: Array<Promise<number>>, min: number, max: number) => {
    const times = await Promise.race([Promise.all(held), new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`${what}: not closed within ${max} ms`)), max + 2000))]);
    expect(Math.min(...times), what).toBeGreaterThanOrEqual(min);
    expect(Math.max(...times), what).toBeLessThanOrEqual(max);
  };
  await Promise.all([
    within("idle sockets", idle.map((h) => h.closedAt), 800, 2500),
    within("slowloris headers", slowHeaders.map((h) => h.closedAt), 800, 3500),
    within("slow bodies", slowBodies.map((h) => h.closedAt), 1800, 4500),
    within("idle HTTP/2 sessions", h2Idle.map((h) => h.closedAt), 800, 2500),
    within("partial HTTP/2 prefaces", h2Partial.map((h) => h.closedAt), 800, 2500),
    within("slow HTTP/2 request bodies", h2Slow.map((h) => h.stream), 1800, 3500),
    within("sessions of reset HTTP/2 streams", h2Slow.map((h) => h.session), 2800, 6000),
  ]);

  await normalCalls(server, 4);
  // The watch is still open, well past the request and idle timeouts.
  expect(await Promise.race([watchEnded, sleep(200).then(() => "open")])).toBe("open"); // a sleep: it must not end within this
  expect(server.child.exitCode).toBeNull();
}, 30_000);

it("connections over the cap are closed as they arrive; those already open keep working", async () => {
  const server = await serve({ HOOKWIRE_MAX_CONNECTIONS: "20", HOOKWIRE_HEADERS_TIMEOUT_MS: "10000", HOOKWIRE_REQUEST_TIMEOUT_MS: "10000" });
  const client = grpcClient(server); // one HTTP/2 connection, opened by its first call
  await client.sign({ body: new TextEncoder().encode("x"), secret: "capped-secret-123" }, acme);
  const held = await Promise.all(Array.from({ length: 40 }, () => holdSocket(server.port)));
  // A sleep as the yardstick: closed within 500 ms is closed as it arrived; the others must stay open that long.
  const early = await Promise.all(held.map((h) => Promise.race([h.closedAt.then(() => true), sleep(500).then(() => false)])));
  const refused = early.filter(Boolean).length;
  expect(refused).toBeGreaterThanOrEqual(40 - 19); // the client above holds one of the 20
  expect(40 - refused).toBeGreaterThanOrEqual(15);
  // The connection opened before the cap was reached still answers.
  const res = await client.sign({ body: new TextEncoder().encode("x"), secret: "capped-secret-123" }, acme);
  expect(res.signature).toMatch(/^sha256=/);
  expect(server.output()).toMatch(/connection limit reached/);
  // Once connections go away, new ones are accepted again: as soon as the server has seen them go, a new
  // connection (a new client each try) is answered.
  for (const h of held) h.socket.destroy();
  const signature = await waitFor(
    () =>
      createClient(WebhookService, createGrpcTransport({ baseUrl: server.baseUrl }))
        .sign({ body: new TextEncoder().encode("y"), secret: "capped-secret-123" }, { ...acme, timeoutMs: 2000 })
        .then((r) => r.signature, () => undefined),
    { timeoutMs: 10_000, what: "a new connection answered" },
  );
  expect(signature).toMatch(/^sha256=/);
});
