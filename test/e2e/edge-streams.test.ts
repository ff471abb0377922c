// An error raised while a server stream runs is mapped and logged like a unary call's: a watcher that falls
// too far behind ends with RESOURCE_EXHAUSTED (not INTERNAL), and the server says so in its log.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";

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
  const watch = (async () => {
    let seen = 0;
    try {
      for await (const _ of client.watchDeliveries({}, { ...acme, signal: abort.signal })) {
        seen++;
        // A slow reader: the server keeps announcing while this one dawdles.
        await new Promise((r) => setTimeout(r, 50));
      }
      return { seen, error: undefined };
    } catch (err) {
      return { seen, error: ConnectError.from(err) };
    }
  })();
  await new Promise((r) => setTimeout(r, 200)); // the watch is registered
  for (let i = 0; i < 5; i++) await client.trigger({ event: "burst.now", payload: { kind: { case: "numberValue", value: i } } }, acme);
  const timer = setTimeout(() => abort.abort(), 15_000);
  const { error } = await watch;
  clearTimeout(timer);
  expect(error?.code).toBe(Code.ResourceExhausted);
  expect(error?.rawMessage).toMatch(/^watcher: fell more than 2 outcomes behind/);
  await new Promise((r) => setTimeout(r, 100));
  expect(server.output()).toMatch(/"msg":"rpc stream failed".*"procedure":"hookwire.v1.WebhookService\/WatchDeliveries".*"code":"ResourceExhausted"/);
});
