// An error raised while a server stream runs is mapped and logged like a unary call's: a watcher that falls
// too far behind ends with RESOURCE_EXHAUSTED (not INTERNAL), and the server says so in its log.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";

const acme = { headers: bearer(KEYS.acme) };
let server: RunningServer;
let rcv: Receiver;
beforeAll(async () => {
  rcv = await startReceiver();
  // A buffer of 2 outcomes: one Trigger to six subscriptions announces more than that at once.
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_WATCH_BUFFER: "2", HOOKWIRE_POLL_MS: "100" } });
});
afterAll(async () => {
  await server?.stop();
  await rcv?.close();
});

it("a watcher that falls too far behind ends with RESOURCE_EXHAUSTED, and the server logs it", async () => {
  const client = grpcClient(server);
  for (let i = 0; i < 6; i++) await client.register({ url: rcv.url(`/w${i}`), events: ["burst.*"] }, acme);
  const abort = new AbortController();
  // The response headers come once the server's watch is registered.
  let opened!: () => void;
  const open = new Promise<void>((r) => (opened = r));
  const watch = (async () => {
    let seen = 0;
    try {
      for await (const _ of client.watchDeliveries({}, { ...acme, signal: abort.signal, onHeader: () => opened() })) {
        seen++;
        // A slow reader (a sleep, as the thing tested): the server keeps announcing while this one dawdles.
        await sleep(50);
      }
      return { seen, error: undefined };
    } catch (err) {
      return { seen, error: ConnectError.from(err) };
    }
  })();
  await Promise.race([open, watch]); // the watch is registered (or it ended: the checks below say how)
  for (let i = 0; i < 5; i++) await client.trigger({ event: "burst.now", payload: { kind: { case: "numberValue", value: i } } }, acme);
  const timer = setTimeout(() => abort.abort(), 15_000);
  const { error } = await watch;
  clearTimeout(timer);
  expect(error?.code).toBe(Code.ResourceExhausted);
  expect(error?.rawMessage).toMatch(/^watcher: fell more than 2 outcomes behind/);
  const line = /"msg":"rpc stream failed".*"procedure":"hookwire.v1.WebhookService\/WatchDeliveries".*"code":"ResourceExhausted"/;
  await waitFor(() => line.test(server.output()), { timeoutMs: 5000, what: "the failed stream logged" });
  expect(server.output()).toMatch(line);
});
