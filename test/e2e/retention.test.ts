// Retention end to end: the real server, with a retention of seconds, removes a finished message and
// its deliveries in the background, and keeps one whose delivery is still being retried.
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, expect, it } from "vitest";
import { DeliveryStatus } from "@hookwire/sdk/proto";
import { startReceiver } from "../helpers/receiver.js";
import { bearer, grpcClient, KEYS, startServer } from "../helpers/server.js";
import { sleep } from "../helpers/wait.js";

const receiver = await startReceiver();
receiver.route("/ok", { respond: () => ({ status: 200 }) });
receiver.route("/down", { respond: () => ({ status: 500 }) });
const server = await startServer({
  env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_RETENTION: "3s", HOOKWIRE_RETENTION_SWEEP_MS: "300" },
});
afterAll(async () => {
  await server.stop();
  await receiver.close();
});


it("removes a finished message and its log once past the retention, and keeps one still retrying", async () => {
  const client = grpcClient(server);
  const headers = bearer(KEYS.acme);
  await client.register({ url: receiver.url("/ok"), events: ["order.done"] }, { headers });
  await client.register({ url: receiver.url("/down"), events: ["order.stuck"], retries: 10, retryDelayMs: 600_000 }, { headers });
  const done = await client.trigger({ event: "order.done", payload: fromJson(ValueSchema, { n: 1 }) }, { headers });
  const stuck = await client.trigger({ event: "order.stuck", payload: fromJson(ValueSchema, { n: 2 }) }, { headers });
  await receiver.waitFor((all) => all.some((r) => r.path === "/ok") && all.some((r) => r.path === "/down"));

  // Delivered, logged and readable at first.
  await expect.poll(async () => (await client.listDeliveries({ messageId: done.messageId }, { headers })).deliveries[0]?.status).toBe(DeliveryStatus.DELIVERED);
  expect((await client.getMessage({ id: done.messageId }, { headers })).message!.id).toBe(done.messageId);

  // Gone in the background a little after 3 s, with its log.
  const start = Date.now();
  await expect
    .poll(() => client.getMessage({ id: done.messageId }, { headers }).then(() => "found", (err: unknown) => ConnectError.from(err).code), { timeout: 15_000, interval: 250 })
    .toBe(Code.NotFound);
  expect(Date.now() - start).toBeGreaterThan(1000);
  expect((await client.listDeliveries({ messageId: done.messageId }, { headers })).deliveries).toEqual([]);

  // The one still waiting for its retry (ten minutes away) stays, with its log, sweep after sweep.
  await sleep(1000); // a sleep: three more sweeps (one each 300 ms) must pass it by
  expect((await client.getMessage({ id: stuck.messageId }, { headers })).message!.id).toBe(stuck.messageId);
  const [pending] = (await client.listDeliveries({ messageId: stuck.messageId }, { headers })).deliveries;
  expect(pending!.status).toBe(DeliveryStatus.PENDING);
  expect(pending!.attempts).toHaveLength(1);
  expect(server.output()).toMatch(/"msg":"retention: removed finished messages","messages":1\b/);
});
