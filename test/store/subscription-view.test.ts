// The cross-process view of subscription changes (server/store/common/subscription-view.ts) on a real FerretDB:
// Triggers read no tenant version while every change is confirmed by every live process, a change waits
// for the processes that have not seen it (and for no dead one past its view), and a process whose
// view ran out reads again.
import { randomBytes } from "node:crypto";
import { MongoClient, type CommandStartedEvent } from "mongodb";
import { afterAll, expect, inject, it } from "vitest";
import { createLogger } from "../../server/telemetry/log.js";
import type { Subscription } from "../../server/ports.js";
import { SecretBox } from "../../server/domain/secret-box.js";
import { SubscriptionStore } from "../../server/store/common/subscriptions.js";
import { EventTypeStore } from "../../server/store/common/event-types.js";
import { SubscriptionView, type EpochDoc, type ViewDoc, type ViewTiming } from "../../server/store/common/subscription-view.js";
import { uniqueDatabase } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";

const quiet = createLogger("error", () => undefined);
const box = new SecretBox([randomBytes(32)]);
const TIMING: ViewTiming = { pollMs: 20, viewMs: 600, marginMs: 200, refreshMs: 150 };
const opened: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of opened.reverse()) await close();
});

/** One "process": its own client (with command monitoring), view and subscription store on the database. */
async function processOn(database: string, timing = TIMING) {
  const client = new MongoClient(inject("mongodbUri"), { monitorCommands: true });
  await client.connect();
  const db = client.db(database);
  const view = new SubscriptionView(db.collection<EpochDoc>("subscription_epochs"), db.collection<ViewDoc>("subscription_views"), quiet, timing);
  const store = new SubscriptionStore(db.collection("subscriptions"), db.collection("tenants"), db.collection("subscription_scopes"), db.collection("hookwire_meta"), box, 0, view);
  const eventTypes = new EventTypeStore(db.collection("event_types"), db.collection("event_type_versions"), view);
  const commands: CommandStartedEvent[] = [];
  client.on("commandStarted", (e) => commands.push(e));
  view.start();
  const close = async () => {
    await view.stop();
    await client.close();
  };
  opened.push(close);
  return { db, view, store, eventTypes, commands, close };
}

function subscription(tenant: string, url: string): Subscription {
  const now = new Date();
  return { _id: `sub_${randomBytes(8).toString("hex")}`, tenant, owner: "", url, events: ["*"], secret: "whsec_" + randomBytes(32).toString("base64"), description: "", disabled: false, disabledReason: "", policy: {}, createdAt: now, updatedAt: now };
}

/** Until the views' state is as the test expects (they move on their own timers). */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  await waitFor(check, { timeoutMs: ms, intervalMs: 5, what: String(check) });
}

/** Reads of the owners' versions (the tenant's own set here). */
const tenantReads = (commands: CommandStartedEvent[]) => commands.filter((c) => c.commandName === "find" && c.command.find === "subscription_scopes").length;

it("serves Triggers from the cache while the view is current, and a change in one process is seen by the other once it is answered", async () => {
  const database = uniqueDatabase("view");
  const a = await processOn(database);
  const b = await processOn(database);
  await until(() => a.view.current && b.view.current);
  await a.store.insert(subscription("acme", "http://127.0.0.1:9/1"));
  expect(await b.store.active("acme", { owner: "" })).toHaveLength(1); // b loads and caches the list
  const before = tenantReads(b.commands);
  for (let i = 0; i < 50; i++) expect(await b.store.active("acme", { owner: "" })).toHaveLength(1);
  expect(tenantReads(b.commands)).toBe(before); // no version read per call
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    await a.store.insert(subscription("acme", `http://127.0.0.1:9/r${round}`));
    // Answered only once b has seen the change: b's very next call has it.
    expect(await b.store.active("acme", { owner: "" })).toHaveLength(2 + round);
    expect(performance.now() - started).toBeLessThan(TIMING.viewMs);
  }
  const views = await a.db.collection<ViewDoc>("subscription_views").find({}).toArray();
  expect(views.map((v) => v._id).sort()).toEqual([a.view.id, b.view.id].sort());
});

it("event type changes ride the same epochs: a Trigger's schema lookup reads nothing while the view is current, and sees a change once it is answered", async () => {
  const database = uniqueDatabase("view");
  const a = await processOn(database);
  const b = await processOn(database);
  await until(() => a.view.current && b.view.current);
  const at = new Date();
  const entry = { tenant: "acme", name: "order.created", description: "", schema: "{}", schemaDigest: "d1", createdAt: at, updatedAt: at };
  expect(await b.eventTypes.schemaDigest("acme", "order.created")).toBeUndefined(); // b loads and keeps the tenant's catalog
  const catalogReads = () => b.commands.filter((c) => c.commandName === "find" && ["event_types", "event_type_versions"].includes(c.command.find as string)).length;
  const before = catalogReads();
  for (let i = 0; i < 50; i++) expect(await b.eventTypes.schemaDigest("acme", i % 2 ? "order.created" : "invoice.paid")).toBeUndefined();
  expect(catalogReads()).toBe(before);
  await a.eventTypes.insert(entry);
  expect(await b.eventTypes.schemaDigest("acme", "order.created")).toBe("d1");
  await a.eventTypes.update("acme", "order.created", { description: "", schema: '{"type":"object"}', schemaDigest: "d2" }, new Date());
  expect(await b.eventTypes.schemaDigest("acme", "order.created")).toBe("d2");
  await a.eventTypes.delete("acme", "order.created");
  expect(await b.eventTypes.schemaDigest("acme", "order.created")).toBeUndefined();
});

it("an unchanged view is written again every refreshMs, not at every poll, and stays current in between", async () => {
  const database = uniqueDatabase("view");
  const a = await processOn(database);
  await until(() => a.view.current);
  const viewWrites = () => a.commands.filter((c) => c.commandName === "update" && c.command.update === "subscription_views").length;
  const epochReads = () => a.commands.filter((c) => c.commandName === "find" && c.command.find === "subscription_epochs").length;
  const [writes, reads] = [viewWrites(), epochReads()];
  const end = performance.now() + 600;
  let lapsed = 0;
  while (performance.now() < end) {
    if (!a.view.current) lapsed++;
    await sleep(5); // a sleep: the view is sampled every 5 ms for 600 ms; what it does over that time is the test
  }
  // About 30 polls (each reading the next epoch) in 600 ms, and about 4 renewals of the view.
  expect(epochReads() - reads).toBeGreaterThanOrEqual(10);
  expect(viewWrites() - writes).toBeGreaterThanOrEqual(2);
  expect(viewWrites() - writes).toBeLessThanOrEqual(8);
  expect(lapsed).toBe(0);
  // Its until moves on with the renewals: others keep waiting for it while it lives.
  const view = await a.db.collection<ViewDoc>("subscription_views").findOne({ _id: a.view.id });
  expect(view!.until.getTime()).toBeGreaterThan(Date.now() + TIMING.viewMs - TIMING.refreshMs - 200);
});

it("a change waits for a process that has not seen it until that process's view runs out, and not for views already out", async () => {
  const database = uniqueDatabase("view");
  const a = await processOn(database);
  await until(() => a.view.current);
  const views = a.db.collection<ViewDoc>("subscription_views");
  // A process that died without a word (its view still live for 400 ms), and one long gone.
  await views.insertOne({ _id: "dead-now", seen: 0, until: new Date(Date.now() + 400) });
  await views.insertOne({ _id: "dead-long-ago", seen: 0, until: new Date(Date.now() - 60_000) });
  const started = performance.now();
  await a.store.insert(subscription("acme", "http://127.0.0.1:9/x"));
  const waited = performance.now() - started;
  expect(waited).toBeGreaterThanOrEqual(300);
  expect(waited).toBeLessThan(2000);
  // Once both are out, a change no longer waits.
  const again = performance.now();
  await a.store.insert(subscription("acme", "http://127.0.0.1:9/y"));
  expect(performance.now() - again).toBeLessThan(300);
});

it("a process sees a change stored by another within a poll, and reads versions again once its view is out", async () => {
  const database = uniqueDatabase("view");
  const b = await processOn(database);
  const a = await processOn(database);
  await until(() => a.view.current && b.view.current);
  await a.store.insert(subscription("acme", "http://127.0.0.1:9/1"));
  expect(await b.store.active("acme", { owner: "" })).toHaveLength(1);
  const generation = b.view.generation;
  // A change written by a process without a view of its own (an older server): b follows the epochs.
  await a.db.collection("subscriptions").insertOne(subscription("acme", "http://127.0.0.1:9/2") as never);
  await a.db.collection("subscription_scopes").updateOne({ _id: "acme\n" as never }, { $inc: { version: 1 } }, { upsert: true });
  const [newest] = await a.db.collection<EpochDoc>("subscription_epochs").find({ _id: { $ne: "latest" } }).sort({ epoch: -1 }).limit(1).toArray();
  const latest = newest!.epoch;
  await a.db.collection<EpochDoc>("subscription_epochs").insertOne({ _id: `e${latest + 1}`, epoch: latest + 1, at: new Date() });
  await until(() => b.view.generation > generation, 1000);
  expect(await b.store.active("acme", { owner: "" })).toHaveLength(2);
  // Stopped, b's view is no longer current: every call reads the tenant's version again.
  await b.view.stop();
  expect(b.view.current).toBe(false);
  const before = tenantReads(b.commands);
  await b.store.active("acme", { owner: "" });
  await b.store.active("acme", { owner: "" });
  expect(tenantReads(b.commands)).toBe(before + 2);
  // And a's changes no longer wait for it: its view document is gone.
  expect(await a.db.collection<ViewDoc>("subscription_views").countDocuments({ _id: b.view.id })).toBe(0);
});

/** Reads of a scope's list of subscriptions. */
const listReads = (commands: CommandStartedEvent[]) => commands.filter((c) => c.commandName === "find" && c.command.find === "subscriptions").length;

it("Triggers and attempts that need a scope's list at once share one read of it (the catch-up after the store was down)", async () => {
  const database = uniqueDatabase("view");
  const a = await processOn(database);
  const b = await processOn(database);
  await until(() => a.view.current && b.view.current);
  const subs = [subscription("acme", "http://127.0.0.1:9/1"), subscription("acme", "http://127.0.0.1:9/2")];
  for (const s of subs) await a.store.insert(s);
  // b has nothing cached: 40 Triggers' matches and 40 attempts' lookups arrive together.
  const before = listReads(b.commands);
  const answers = await Promise.all([
    ...Array.from({ length: 40 }, () => b.store.active("acme", { owner: "" })),
    ...Array.from({ length: 40 }, (_, i) => b.store.activeById("acme", "", subs[i % 2]!._id)),
  ]);
  expect(listReads(b.commands) - before).toBe(1);
  for (const [i, answer] of answers.entries()) {
    if (i < 40) expect((answer as Subscription[]).map((s) => s.url).sort()).toEqual(["http://127.0.0.1:9/1", "http://127.0.0.1:9/2"]);
    else expect((answer as Subscription).url).toBe(subs[i % 2]!.url);
  }
  // Without a current view (each call reads the scope's version first), callers that read one version share too.
  await b.view.stop();
  await a.store.insert(subscription("acme", "http://127.0.0.1:9/3"));
  const then = listReads(b.commands);
  const lists = await Promise.all(Array.from({ length: 40 }, () => b.store.active("acme", { owner: "" })));
  expect(listReads(b.commands) - then).toBeLessThanOrEqual(2); // the version reads group in at most two rounds
  for (const list of lists) expect(list).toHaveLength(3);
});
