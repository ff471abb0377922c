// The delivery engine on its own: the in-memory store (which passes the store conformance suite), a
// fake clock for every timer the engine sets, and a real HTTP receiver on 127.0.0.1.
import { randomBytes } from "node:crypto";
import { afterEach, expect, it } from "vitest";
import { DeliveryEngine, DEFAULT_ENGINE_OPTIONS, type EngineOptions } from "../../server/engine/engine.js";
import { HttpSender } from "../../server/engine/http-sender.js";
import { attemptPreparer } from "../../server/engine/prepare.js";
import { newId } from "../../server/domain/ids.js";
import { createLogger } from "../../server/telemetry/log.js";
import { HookwireMetrics } from "../../server/telemetry/metrics.js";
import type { Clock, Delivery, Message, StorePorts, Subscription } from "../../server/ports.js";
import { MemoryDatabase, openMemoryStore } from "../../server/store/memory/memory-store.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { FakeClock } from "../helpers/fake-clock.js";

const HOLD_MS = 30_000;
const quiet = createLogger("error", () => undefined);
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
});

interface Rig {
  db: MemoryDatabase;
  store: StorePorts;
  engine: DeliveryEngine;
  clock: FakeClock;
  rcv: Receiver;
  /** Resolves once the engine has announced (stored) a state of the delivery that `pred` accepts, earlier ones included. */
  stored(id: string, pred: (d: Delivery) => boolean): Promise<Delivery>;
}

/** The states an engine announces once they are stored (as WatchDeliveries sees them), to wait on. */
function announcements(engine: DeliveryEngine): Rig["stored"] {
  const seen: Delivery[] = [];
  const waiters = new Set<() => void>();
  const unwatch = engine.watch((doc) => {
    seen.push(doc);
    for (const w of waiters) w();
  });
  cleanup.push(async () => unwatch());
  return (id, pred) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = seen.find((d) => d._id === id && pred(d));
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no such state of ${id} stored in 5 s; stored: ${JSON.stringify(seen.filter((d) => d._id === id).map((d) => [d.status, d.attempts.length]))}`));
      }, 5000);
      waiters.add(check);
      check();
    });
}

async function rig(options: Partial<EngineOptions> = {}, shared?: { db: MemoryDatabase; clock: FakeClock; rcv: Receiver }): Promise<Rig> {
  const db = shared?.db ?? new MemoryDatabase();
  const clock = shared?.clock ?? new FakeClock();
  let rcv = shared?.rcv;
  if (!rcv) {
    const started = await startReceiver();
    cleanup.push(() => started.close());
    rcv = started;
  }
  const store = openMemoryStore(db, { holdMs: HOLD_MS, clock });
  const opts = { ...DEFAULT_ENGINE_OPTIONS, holdMs: HOLD_MS, pollMs: 1000, ...options };
  const sender = new HttpSender({ allowPrivateUrls: true, connectionsPerOrigin: opts.maxInFlightPerEndpoint, userAgent: "test" });
  const engine = new DeliveryEngine(
    { queue: store.queue, messages: store.messages, deliveries: store.log, sender, prepare: attemptPreparer(store.subscriptions, store.sendSecrets), log: quiet, metrics: new HookwireMetrics(), clock },
    opts,
  );
  cleanup.push(() => engine.stop(0));
  return { db, store, engine, clock, rcv, stored: announcements(engine) };
}

async function subscribe(r: Rig, path: string, secret = "whsec_" + randomBytes(32).toString("base64"), at: Receiver = r.rcv): Promise<Subscription> {
  const now = new Date(r.clock.now());
  const sub: Subscription = { _id: newId("sub"), tenant: "acme", owner: "", url: at.url(path), events: ["*"], secret, description: "", createdAt: now, updatedAt: now, disabled: false, disabledReason: "", policy: {} };
  await r.store.subscriptions.insert(sub);
  return sub;
}

/** Stores a message with one delivery per subscription, as Trigger does; answers the held deliveries. */
async function trigger(r: Rig, subs: Subscription[], retryDelayMs = 1000) {
  const now = new Date(r.clock.now());
  const message: Message = { _id: newId("msg"), tenant: "acme", event: "e.x", body: '{"event":"e.x","payload":1,"timestamp":"t"}', idempotencyKey: "", deliveries: subs.length, createdAt: now };
  const deliveries: Delivery[] = subs.map((s) => ({
    _id: newId("dlv"),
    tenant: "acme",
    messageId: message._id,
    subscriptionId: s._id,
    url: s.url,
    event: "e.x",
    policy: { retries: 3, retryDelayMs, timeoutMs: 10_000 },
    status: "pending",
    attempts: [],
    createdAt: now,
    updatedAt: now,
    nextAttemptAt: now,
  }));
  const res = await r.store.queue.accept(message, deliveries);
  if (!("held" in res)) throw new Error("not accepted");
  return { message, held: res.held };
}

async function stateOf(r: Rig, id: string): Promise<Delivery> {
  return (await r.store.log.get("acme", id))!;
}

it("a retry due soon is held in memory and runs exactly at its time on the clock", async () => {
  const r = await rig();
  const sub = await subscribe(r, "/soon");
  r.rcv.route("/soon", { respond: (n) => ({ status: n === 1 ? 500 : 200 }) });
  const { message, held } = await trigger(r, [sub]);
  r.engine.submit(held, message.body);
  await r.rcv.waitFor(() => r.rcv.requests("/soon").length === 1);
  await r.stored(held[0]!.delivery._id, (d) => d.attempts.length === 1);
  const first = await stateOf(r, held[0]!.delivery._id);
  expect(first.attempts).toHaveLength(1);
  const due = first.nextAttemptAt.getTime() - r.clock.now();
  expect(due).toBeGreaterThanOrEqual(800); // 1000 ms with jitter of ±20 %
  expect(due).toBeLessThanOrEqual(1200);
  await r.clock.advance(due - 1);
  expect(r.rcv.requests("/soon")).toHaveLength(1);
  await r.clock.advance(1);
  await r.rcv.waitFor(() => r.rcv.requests("/soon").length === 2);
  await r.stored(held[0]!.delivery._id, (d) => d.status !== "pending");
  expect((await stateOf(r, held[0]!.delivery._id)).status).toBe("delivered");
});

it("a retry due later is released to the store and taken again when it is due", async () => {
  const r = await rig();
  r.engine.start();
  const sub = await subscribe(r, "/later");
  r.rcv.route("/later", { respond: (n) => ({ status: n === 1 ? 503 : 200 }) });
  const { message, held } = await trigger(r, [sub], 20_000);
  r.engine.submit(held, message.body);
  await r.rcv.waitFor(() => r.rcv.requests("/later").length === 1);
  await r.stored(held[0]!.delivery._id, (d) => d.attempts.length === 1);
  expect(r.engine.stats.held).toBe(0); // not held in memory: 20 s is past holdRetriesUnderMs
  await r.clock.advance(15_000);
  expect(r.rcv.requests("/later")).toHaveLength(1);
  await r.clock.advance(10_000);
  await r.rcv.waitFor(() => r.rcv.requests("/later").length === 2);
  await r.stored(held[0]!.delivery._id, (d) => d.status !== "pending");
  expect((await stateOf(r, held[0]!.delivery._id)).status).toBe("delivered");
});

it("takes over the work of a process that died once its hold runs out", async () => {
  const dead = await rig();
  const sub = await subscribe(dead, "/orphan");
  const { held } = await trigger(dead, [sub, sub, sub]); // accepted, held by a process that then dies
  const alive = await rig({}, dead);
  alive.engine.start();
  await alive.clock.advance(HOLD_MS - 1000);
  expect(alive.rcv.requests("/orphan")).toHaveLength(0);
  await alive.clock.advance(2000);
  await alive.rcv.waitFor(() => alive.rcv.requests("/orphan").length === 3);
  for (const h of held) await alive.stored(h.delivery._id, (d) => d.status !== "pending");
  for (const h of held) expect((await stateOf(alive, h.delivery._id)).status).toBe("delivered");
});

it("a caller waiting for a delivery's outcome (a Send) hears it when another process delivers it", async () => {
  const first = await rig();
  const sub = await subscribe(first, "/elsewhere");
  const { held } = await trigger(first, [sub]); // held by `first`, whose engine never attempts it (as after a park)
  const id = held[0]!.delivery._id;
  const outcome = first.engine.finished("acme", id);
  let heard: Delivery | undefined;
  void outcome.then((d) => (heard = d));
  const other = await rig({}, first);
  other.engine.start();
  await other.clock.advance(HOLD_MS + 1000); // first's hold runs out: the other process takes it and delivers
  await other.rcv.waitFor(() => other.rcv.requests("/elsewhere").length === 1);
  await other.stored(id, (d) => d.status !== "pending");
  expect(heard).toBeUndefined(); // announced by the other engine only
  await first.clock.advance(5_000); // first looks at the stored state at most this long apart
  await expect.poll(() => heard?.status, { timeout: 2000 }).toBe("delivered");
});

it("a secret that cannot sign ends the delivery at once, saying why, with nothing sent", async () => {
  const r = await rig();
  const sub = await subscribe(r, "/poison", "whsec_not*base64!");
  const { message, held } = await trigger(r, [sub]);
  r.engine.submit(held, message.body);
  await r.clock.advance(100);
  await r.stored(held[0]!.delivery._id, (d) => d.status !== "pending");
  const state = await stateOf(r, held[0]!.delivery._id);
  expect(state.status).toBe("failed");
  expect(state.attempts).toHaveLength(1);
  expect(state.attempts[0]!.error).toMatch(/^not sent: cannot sign: /);
  expect(r.rcv.requests("/poison")).toHaveLength(0);
  expect(r.engine.stats.held).toBe(0);
});

it("a subscription deleted while its retry is held gets no further attempt; the delivery ends", async () => {
  const r = await rig();
  const sub = await subscribe(r, "/deleted");
  r.rcv.route("/deleted", { respond: () => ({ status: 500 }) });
  const { message, held } = await trigger(r, [sub]);
  r.engine.submit(held, message.body);
  await r.rcv.waitFor(() => r.rcv.requests("/deleted").length === 1);
  await r.stored(held[0]!.delivery._id, (d) => d.attempts.length === 1); // its retry is held now
  await r.store.subscriptions.delete("acme", sub._id);
  await r.clock.advance(5000);
  await r.stored(held[0]!.delivery._id, (d) => d.status !== "pending");
  expect(r.rcv.requests("/deleted")).toHaveLength(1);
  const state = await stateOf(r, held[0]!.delivery._id);
  expect(state.status).toBe("failed");
  expect(state.attempts.at(-1)!.error).toBe("not sent: the subscription was deleted");
});

it("one endpoint that hangs holds only its own share: another endpoint's deliveries all go through", async () => {
  const r = await rig({ maxInFlightPerEndpoint: 2, maxInFlight: 4 });
  const hanging = await subscribe(r, "/hang");
  r.rcv.route("/hang", { respond: () => ({ status: 200, hang: true }) });
  // The other endpoint is another origin: a second receiver.
  const other = await startReceiver();
  cleanup.push(() => other.close());
  const fine = await subscribe(r, "/fine", undefined, other);
  const hungMessages = await Promise.all(Array.from({ length: 6 }, () => trigger(r, [hanging])));
  const fineMessages = await Promise.all(Array.from({ length: 6 }, () => trigger(r, [fine])));
  for (const m of [...hungMessages, ...fineMessages]) r.engine.submit(m.held, m.message.body);
  await other.waitFor(() => other.requests("/fine").length === 6);
  for (const m of fineMessages) await r.stored(m.held[0]!.delivery._id, (d) => d.status !== "pending");
  await r.rcv.waitFor(() => r.rcv.requests("/hang").length >= 2);
  expect(r.rcv.requests("/hang")).toHaveLength(2); // its per-endpoint limit
  for (const m of fineMessages) expect((await stateOf(r, m.held[0]!.delivery._id)).status).toBe("delivered");
});

it("a subscription's extra headers go with every attempt as they are when it starts; Hookwire's own headers win", async () => {
  const r = await rig();
  const sub = await subscribe(r, "/headers");
  // Stored directly, past validation (which refuses the last two): the engine still sends its own.
  const headers = [
    { name: "x-customer-token", value: "first" },
    { name: "content-type", value: "text/plain" },
    { name: "webhook-id", value: "forged" },
  ];
  await r.store.subscriptions.update("acme", sub._id, { headers }, new Date(r.clock.now()));
  r.rcv.route("/headers", { respond: (n) => ({ status: n === 1 ? 500 : 200 }) });
  const { message, held } = await trigger(r, [sub]);
  r.engine.submit(held, message.body);
  await r.rcv.waitFor(() => r.rcv.requests("/headers").length === 1);
  const first = r.rcv.requests("/headers")[0]!.headers;
  expect(first["x-customer-token"]).toBe("first");
  expect(first["content-type"]).toBe("application/json");
  expect(first["webhook-id"]).toBe(message._id);
  await r.stored(held[0]!.delivery._id, (d) => d.attempts.length === 1);
  // Changed before the retry: the retry carries the new value.
  await r.store.subscriptions.update("acme", sub._id, { headers: [{ name: "x-customer-token", value: "second" }] }, new Date(r.clock.now()));
  await r.clock.advance(1200);
  await r.rcv.waitFor(() => r.rcv.requests("/headers").length === 2);
  expect(r.rcv.requests("/headers")[1]!.headers["x-customer-token"]).toBe("second");
});

it("keeps a message's body cached while one of its deliveries is held, and drops it once none is", async () => {
  const r = await rig();
  const [a, b] = [await subscribe(r, "/body-a"), await subscribe(r, "/body-b")];
  r.rcv.route("/body-a", { respond: () => ({ status: 200 }) });
  r.rcv.route("/body-b", { respond: (n) => ({ status: n === 1 ? 500 : 200 }) });
  const { message, held } = await trigger(r, [a, b]);
  r.engine.submit(held, message.body);
  expect(r.engine.stats.cachedBodyBytes).toBe(message.body.length * 2);
  const [da, db] = [held[0]!.delivery._id, held[1]!.delivery._id];
  await r.stored(da, (d) => d.status === "delivered");
  await r.stored(db, (d) => d.attempts.length === 1);
  // One delivered, the other held for its retry: the body stays, and the retry does not read it back.
  expect(r.engine.stats.cachedBodyBytes).toBe(message.body.length * 2);
  await r.clock.advance(1200);
  await r.stored(db, (d) => d.status === "delivered");
  expect(r.rcv.requests("/body-b")[1]!.body).toBe(message.body);
  expect(r.engine.stats.cachedBodyBytes).toBe(0);
});
