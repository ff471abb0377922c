// The store's ports (server/ports.ts), as the engine and use cases rely on them, checked on a real
// FerretDB. Every implementation of the ports runs this same suite; two store instances on one
// database stand for two server processes.
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, inject, it } from "vitest";
import { idFloor, newId } from "../../server/domain/ids.js";
import { createLogger } from "../../server/telemetry/log.js";
import type { Delivery, DeliveryQueue, EventType, HealthChange, HeldDelivery, Message, PortalSession, PortalTheme, StorePorts } from "../../server/ports.js";
import { NO_THEME, portalTokenDigest } from "../../server/domain/portal.js";
import { MemoryDatabase, openMemoryStore } from "../../server/store/memory/memory-store.js";
import { openStore } from "../../server/store/open.js";
import { SecretBox } from "../../server/domain/secret-box.js";
import { uniqueDatabase } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";

const HOLD_MS = 400;
const quiet = createLogger("error", () => undefined);
const box = new SecretBox([randomBytes(32)]);

interface Implementation {
  name: string;
  /** A store on the given database, as one process opens it (holds lasting holdMs). */
  open(database: string, holdMs?: number): Promise<StorePorts>;
}

const memoryDatabases = new Map<string, MemoryDatabase>();
const implementations: Implementation[] = [
  {
    name: "the store in the FerretDB layout",
    open: (database, holdMs = HOLD_MS) => openStore(inject("mongodbUri"), database, quiet, box, { holdMs, layout: "ferretdb" }),
  },
  {
    name: "the store in the MongoDB layout (on FerretDB)",
    open: (database, holdMs = HOLD_MS) => openStore(inject("mongodbUri"), database, quiet, box, { holdMs, layout: "mongodb" }),
  },
  {
    name: "the in-memory store",
    open: async (database, holdMs = HOLD_MS) => {
      if (!memoryDatabases.has(database)) memoryDatabases.set(database, new MemoryDatabase());
      return openMemoryStore(memoryDatabases.get(database)!, { holdMs });
    },
  },
];

const opened: StorePorts[] = [];
afterAll(async () => {
  for (const s of opened) await s.close().catch(() => undefined);
});

function message(tenant: string, n = 1): Message {
  return { _id: newId("msg"), tenant, event: "order.created", body: `{"event":"order.created","payload":${n},"timestamp":"t"}`, idempotencyKey: "", deliveries: 0, createdAt: new Date() };
}

function deliveriesOf(m: Message, subscriptionIds: string[]): Delivery[] {
  const now = new Date();
  return subscriptionIds.map((subscriptionId) => ({
    _id: newId("dlv"),
    tenant: m.tenant,
    messageId: m._id,
    subscriptionId,
    url: "http://127.0.0.1:9/hook",
    event: m.event,
    policy: { retries: 3, retryDelayMs: 1000, timeoutMs: 10_000 },
    status: "pending",
    attempts: [],
    createdAt: now,
    updatedAt: now,
    nextAttemptAt: now,
  }));
}

const attempt = (statusCode: number) => ({ at: new Date(), durationMs: 5, statusCode, excerpt: "", error: "" });

async function accepted(queue: DeliveryQueue, m: Message, subs: string[]): Promise<HeldDelivery[]> {
  const res = await queue.accept(m, deliveriesOf(m, subs));
  if (!("held" in res)) throw new Error("not accepted");
  return res.held;
}

/** Takes due work until some arrives, within ms (holds run out on their own clock). */
function takeWithin(queue: DeliveryQueue, ms: number): Promise<HeldDelivery[]> {
  return waitFor(
    async () => {
      const taken = await queue.takeDue(new Date(), 100);
      return taken.length > 0 ? taken : undefined;
    },
    { timeoutMs: ms, what: "due work to take" },
  );
}

const ids = (items: HeldDelivery[]) => items.map((i) => i.delivery._id).sort();

describe.each(implementations)("$name", (impl) => {
  async function twoProcesses(): Promise<[StorePorts, StorePorts]> {
    const database = uniqueDatabase("conf");
    const a = await impl.open(database);
    const b = await impl.open(database);
    opened.push(a, b);
    return [a, b];
  }

  describe("DeliveryQueue", () => {
    it("accepts a message with its deliveries, held by the accepting process, listed as pending", async () => {
      const [a, b] = await twoProcesses();
      const m = message("acme");
      const held = await accepted(a.queue, m, ["sub_1", "sub_2", "sub_3"]);
      expect(held.map((h) => h.delivery.subscriptionId).sort()).toEqual(["sub_1", "sub_2", "sub_3"]);
      expect(await a.messages.get("acme", m._id)).toMatchObject({ _id: m._id, body: m.body });
      const listed = await a.log.list({ tenant: "acme", messageId: m._id, limit: 10 });
      expect(listed.map((d) => d._id).sort()).toEqual(ids(held));
      expect(listed.every((d) => d.status === "pending")).toBe(true);
      expect(await b.queue.takeDue(new Date(), 100)).toEqual([]); // held: nobody else takes it
    });

    it("answers the earlier message for a repeated id and keeps nothing new", async () => {
      const [a] = await twoProcesses();
      const m = message("acme");
      await accepted(a.queue, m, ["sub_1"]);
      const again = await a.queue.accept({ ...m, body: "other" }, deliveriesOf(m, ["sub_1", "sub_2"]));
      expect(again).toEqual({ earlier: expect.objectContaining({ _id: m._id, body: m.body }) });
      expect(await a.log.list({ tenant: "acme", messageId: m._id, limit: 10 })).toHaveLength(1);
    });

    it("a parked delivery (stored as it stands, unheld) is taken at once, except by a take that skips its subscription", async () => {
      const [a, b] = await twoProcesses();
      const m = message("acme");
      const held = await accepted(a.queue, m, ["sub_full", "sub_room"]);
      for (const item of held) await a.queue.record(item, { ...item.delivery, updatedAt: new Date() }, false);
      await a.queue.flush(Date.now() + 5000);
      const first = await b.queue.takeDue(new Date(), 100, ["sub_full"]);
      expect(first.map((t) => t.delivery.subscriptionId)).toEqual(["sub_room"]);
      expect(first[0]!.delivery.attempts).toEqual([]);
      const rest = await b.queue.takeDue(new Date(), 100);
      expect(rest.map((t) => t.delivery.subscriptionId)).toEqual(["sub_full"]);
    });

    it("a take brings only the rows its picker wants, asked once each, and leaves the rest untouched for any process", async () => {
      const [a, b] = await twoProcesses();
      const held: HeldDelivery[] = [];
      for (let i = 0; i < 4; i++) held.push(...(await accepted(a.queue, message("acme"), ["sub_busy", "sub_busy2"])));
      for (const item of held) await a.queue.record(item, { ...item.delivery, updatedAt: new Date() }, false);
      await a.queue.flush(Date.now() + 5000);
      const asked: string[] = [];
      let busy = 0;
      const first = await b.queue.takeDue(new Date(), 100, [], (tenant, sub) => {
        asked.push(`${tenant}/${sub}`);
        return sub === "sub_busy2" || busy++ < 1;
      });
      expect(asked.sort()).toEqual([...Array(4).fill("acme/sub_busy"), ...Array(4).fill("acme/sub_busy2")]);
      expect(first.map((t) => t.delivery.subscriptionId).sort()).toEqual(["sub_busy", ...Array(4).fill("sub_busy2")]);
      // The three declined are unheld: another process takes them at once.
      const rest = await a.queue.takeDue(new Date(), 100);
      expect(rest.map((t) => t.delivery.subscriptionId)).toEqual(Array(3).fill("sub_busy"));
    });

    it("records states: a released retry is taken by another process once due, a final state ends it", async () => {
      const [a, b] = await twoProcesses();
      const m = message("acme");
      const [item] = await accepted(a.queue, m, ["sub_1"]);
      const retry: Delivery = { ...item!.delivery, attempts: [attempt(500)], updatedAt: new Date(), nextAttemptAt: new Date(Date.now() + 200) };
      await a.queue.record(item!, retry, false);
      expect((await a.log.get("acme", retry._id))!.attempts).toHaveLength(1);
      expect(await b.queue.takeDue(new Date(), 100)).toEqual([]); // not due yet
      const [taken] = await takeWithin(b.queue, 2000);
      expect(taken!.delivery._id).toBe(retry._id);
      expect(taken!.delivery.attempts).toHaveLength(1);
      await b.queue.record(taken!, { ...taken!.delivery, attempts: [...taken!.delivery.attempts, attempt(200)], status: "delivered", updatedAt: new Date() }, false);
      const done = await b.log.get("acme", retry._id);
      expect(done!.status).toBe("delivered");
      expect(done!.attempts.map((x) => x.statusCode)).toEqual([500, 200]);
      await sleep(HOLD_MS + 100); // a sleep: past any hold, nothing ended is taken again
      expect(await a.queue.takeDue(new Date(), 100)).toEqual([]);
      expect(await b.queue.takeDue(new Date(), 100)).toEqual([]);
    });

    it("a retry recorded with keep stays held by its process until its hold runs out", async () => {
      const [a, b] = await twoProcesses();
      const [item] = await accepted(a.queue, message("acme"), ["sub_1"]);
      await a.queue.record(item!, { ...item!.delivery, attempts: [attempt(0)], updatedAt: new Date(), nextAttemptAt: new Date() }, true);
      expect(await b.queue.takeDue(new Date(), 100)).toEqual([]);
      const taken = await takeWithin(b.queue, HOLD_MS * 4); // a stopped renewing: as if it died
      expect(ids(taken)).toEqual([item!.delivery._id]);
    });

    it("work of a process that stops renewing is taken over, without what it already recorded", async () => {
      const [a, b] = await twoProcesses();
      const held = await accepted(a.queue, message("acme"), ["sub_1", "sub_2", "sub_3"]);
      await a.queue.record(held[0]!, { ...held[0]!.delivery, attempts: [attempt(200)], status: "delivered", updatedAt: new Date() }, false);
      const taken = await takeWithin(b.queue, HOLD_MS * 4);
      expect(ids(taken)).toEqual(ids(held.slice(1)));
      // Recorded by the new holder, they end; nothing is taken again.
      for (const t of taken) await b.queue.record(t, { ...t.delivery, attempts: [attempt(200)], status: "delivered", updatedAt: new Date() }, false);
      await sleep(HOLD_MS * 2); // a sleep: past the holds, nothing ended is taken again
      expect(await a.queue.takeDue(new Date(), 100)).toEqual([]);
      const all = await b.log.list({ tenant: "acme", messageId: held[0]!.delivery.messageId, limit: 10 });
      expect(all.map((d) => d.status)).toEqual(["delivered", "delivered", "delivered"]);
    });

    it("a fan-out larger than one batch is listed, taken over and ended whole", async () => {
      const [a, b] = await twoProcesses();
      const m = message("acme");
      const subs = Array.from({ length: 1203 }, (_, i) => `sub_${String(i).padStart(4, "0")}`);
      const held = await accepted(a.queue, m, subs);
      expect(held).toHaveLength(1203);
      const listed = [];
      let afterId: string | undefined;
      for (;;) {
        const page = await a.log.list({ tenant: "acme", messageId: m._id, afterId, limit: 500 });
        listed.push(...page);
        if (page.length < 500) break;
        afterId = page.at(-1)!._id;
      }
      expect(listed.map((d) => d._id)).toEqual(ids(held));
      // By id, the latest take's handle: on a loaded machine a take can outlast the 400 ms hold of the one
      // before it, whose deliveries are then due again and taken again (at least once, as designed).
      const byId = new Map<string, HeldDelivery>();
      await waitFor(
        async () => {
          for (const t of await b.queue.takeDue(new Date(), 2000)) byId.set(t.delivery._id, t);
          return byId.size >= held.length;
        },
        { timeoutMs: HOLD_MS * 10, what: () => `${byId.size} of ${held.length} deliveries taken` },
      );
      const taken = [...byId.values()];
      expect(ids(taken)).toEqual(ids(held));
      await Promise.all(taken.map((t) => b.queue.record(t, { ...t.delivery, attempts: [attempt(200)], status: "delivered", updatedAt: new Date() }, false)));
      expect((await b.log.list({ tenant: "acme", messageId: m._id, status: "pending", limit: 10 }))).toEqual([]);
      expect((await b.log.list({ tenant: "acme", messageId: m._id, status: "delivered", limit: 2000 }))).toHaveLength(1203);
    });

    it("a dead process's work from several seconds of Triggers is taken over in consecutive takes, not one part per wait", async () => {
      const [a, b] = await twoProcesses();
      const held: HeldDelivery[] = [];
      // Spread over more than one lot of the FerretDB layout (a lot takes a process's Triggers for holdMs/4).
      for (let i = 0; i < 3; i++) {
        held.push(...(await accepted(a.queue, message("acme", i), ["sub_1"])));
        await sleep(HOLD_MS / 4 + 50); // a sleep: the next Trigger falls in the next lot
      }
      await sleep(HOLD_MS + 100); // a sleep: a dies, and nothing renews its hold until it runs out
      const taken: HeldDelivery[] = [];
      for (let i = 0; i < 4 && taken.length < held.length; i++) taken.push(...(await b.queue.takeDue(new Date(), 100)));
      expect(ids(taken)).toEqual(ids(held));
    });

    it("hundreds of states recorded at once are all stored, retries of held work included", async () => {
      const [a, b] = await twoProcesses();
      const held = await a.queue.add(deliveriesOf(message("acme"), Array.from({ length: 300 }, (_, i) => `sub_${i}`)));
      const fromTrigger = await accepted(a.queue, message("acme"), Array.from({ length: 300 }, (_, i) => `sub_${i}`));
      const later = new Date(Date.now() + 60_000);
      const writes = [...held, ...fromTrigger].map((h) => a.queue.record(h, { ...h.delivery, attempts: [attempt(500)], updatedAt: new Date(), nextAttemptAt: later }, true));
      await Promise.all(writes);
      // Recorded again (now each has a row of its own), then handed back: all of them, once due, are anyone's.
      await Promise.all([...held, ...fromTrigger].map((h) => a.queue.record(h, { ...h.delivery, attempts: [attempt(500), attempt(500)], updatedAt: new Date(), nextAttemptAt: new Date() }, false)));
      const taken = [];
      const deadline = Date.now() + 5000;
      while (taken.length < 600 && Date.now() < deadline) taken.push(...(await b.queue.takeDue(new Date(), 1000)));
      expect(taken).toHaveLength(600);
      expect(taken.every((t) => t.delivery.attempts.length === 2)).toBe(true);
    });

    it("renewing keeps a process's hold past its first term", async () => {
      const [a, b] = await twoProcesses();
      const held = await accepted(a.queue, message("acme"), ["sub_1"]);
      const [retried] = await a.queue.add(deliveriesOf(message("acme"), ["sub_2"]));
      for (let i = 0; i < 6; i++) {
        await sleep(HOLD_MS / 3); // a sleep: two holds' time passes, renewed as the engine renews it
        await a.queue.renew();
      }
      expect(await b.queue.takeDue(new Date(), 100)).toEqual([]);
      expect(held).toHaveLength(1);
      expect(retried).toBeDefined();
    });

    it("releaseAll hands everything back at once; release lets the hold run out", async () => {
      const [a, b] = await twoProcesses();
      const first = await accepted(a.queue, message("acme"), ["sub_1", "sub_2"]);
      const added = await a.queue.add(deliveriesOf(message("acme"), ["sub_3"]));
      await a.queue.releaseAll();
      const taken = await takeWithin(b.queue, HOLD_MS);
      expect(ids(taken)).toEqual(ids([...first, ...added]));

      const [c, d] = await twoProcesses();
      const later = await accepted(c.queue, message("acme"), ["sub_1"]);
      await c.queue.release(later);
      expect(await d.queue.takeDue(new Date(), 100)).toEqual([]); // its hold stands until it runs out
      expect(ids(await takeWithin(d.queue, HOLD_MS * 4))).toEqual(ids(later));
    });

    it("releaseDeadHolders hands back at once what holders judged dead hold (lot and retry rows), never a live one's or its own", async () => {
      // Holds of a minute: whatever is taken below was released, not run out.
      const database = uniqueDatabase("conf");
      const [dead, live, starting] = [await impl.open(database, 60_000), await impl.open(database, 60_000), await impl.open(database, 60_000)];
      opened.push(dead, live, starting);
      const [retry, first] = await accepted(dead.queue, message("acme"), ["sub_retry", "sub_first"]);
      // One retry kept held (a queue row of its own), one delivery still waiting for its first outcome (in its lot).
      await dead.queue.record(retry!, { ...retry!.delivery, attempts: [attempt(500)], updatedAt: new Date(), nextAttemptAt: new Date() }, true);
      expect(await dead.queue.flush(Date.now() + 5000)).toBe(true);
      const liveHeld = await accepted(live.queue, message("acme"), ["sub_live"]);
      const ownHeld = await accepted(starting.queue, message("acme"), ["sub_own"]);
      expect(await starting.queue.takeDue(new Date(), 100)).toEqual([]); // all held

      const judged: string[] = [];
      const released = await starting.queue.releaseDeadHolders((h) => {
        judged.push(h);
        return h === dead.queue.holder || h === starting.queue.holder; // its own is never released, whatever the judgement
      });
      expect(released.holders).toEqual([dead.queue.holder]);
      expect(released.lots + released.rows).toBeGreaterThan(0);
      expect(judged).not.toContain(starting.queue.holder);

      const taken: HeldDelivery[] = [];
      for (let i = 0; i < 4; i++) taken.push(...(await starting.queue.takeDue(new Date(), 100)));
      expect(ids(taken)).toEqual(ids([retry!, first!]));
      expect(taken.find((t) => t.delivery._id === retry!.delivery._id)!.delivery.attempts).toHaveLength(1);
      // The live process's and the starting one's own stay held: nobody takes them.
      expect(await live.queue.takeDue(new Date(), 100)).toEqual([]);
      expect(liveHeld.length + ownHeld.length).toBe(2);
      // Nothing is left to release: the dead holder's holds were taken by the starting process.
      expect((await live.queue.releaseDeadHolders((h) => h === dead.queue.holder)).holders).toEqual([]);
    });

    it("releaseDeadHolders finds a dead holder that holds only retry rows it took, no lot", async () => {
      const database = uniqueDatabase("conf");
      const [first, dead, starting] = [await impl.open(database, 60_000), await impl.open(database, 60_000), await impl.open(database, 60_000)];
      opened.push(first, dead, starting);
      const held = await accepted(first.queue, message("acme"), ["sub_retry"]);
      await first.queue.record(held[0]!, { ...held[0]!.delivery, attempts: [attempt(500)], updatedAt: new Date(), nextAttemptAt: new Date() }, false);
      expect(await first.queue.flush(Date.now() + 5000)).toBe(true);
      const taken = await dead.queue.takeDue(new Date(), 100);
      expect(ids(taken)).toEqual(ids(held)); // now dead's queue row (a minute's hold); first's lot is gone or first's
      expect(await starting.queue.takeDue(new Date(), 100)).toEqual([]);
      const released = await starting.queue.releaseDeadHolders((h) => h === dead.queue.holder);
      expect(released.holders).toEqual([dead.queue.holder]);
      expect(released.rows).toBe(1);
      expect(ids(await starting.queue.takeDue(new Date(), 100))).toEqual(ids(held));
    });

    it("drop removes deliveries that can never be sent; dropForSubscription a deleted subscription's pending ones", async () => {
      const [a, b] = await twoProcesses();
      const m = message("acme");
      const held = await accepted(a.queue, m, ["sub_1", "sub_2"]);
      await a.queue.drop(held);
      await sleep(HOLD_MS + 200); // a sleep: past the hold, nothing dropped is taken
      expect(await b.queue.takeDue(new Date(), 100)).toEqual([]);
      expect(await a.log.list({ tenant: "acme", messageId: m._id, limit: 10 })).toEqual([]);

      const [x] = await a.queue.add(deliveriesOf(message("acme"), ["sub_gone"]));
      const [y] = await a.queue.add(deliveriesOf(message("acme"), ["sub_kept"]));
      await a.queue.dropForSubscription("acme", "sub_gone");
      expect(await a.log.get("acme", x!.delivery._id)).toBeNull();
      expect(await a.log.get("acme", y!.delivery._id)).not.toBeNull();
    });

    it("record resolves once stored; flush waits for what is still being written", async () => {
      const [a] = await twoProcesses();
      const held = await accepted(a.queue, message("acme"), ["sub_1", "sub_2", "sub_3", "sub_4"]);
      const writes = held.map((h) => a.queue.record(h, { ...h.delivery, attempts: [attempt(204)], status: "delivered", updatedAt: new Date() }, false));
      expect(await a.queue.flush(Date.now() + 5000)).toBe(true);
      await Promise.all(writes);
      expect(a.queue.unwritten).toBe(0);
      for (const h of held) expect((await a.log.get("acme", h.delivery._id))!.status).toBe("delivered");
    });
  });

  describe("DeliveryLog", () => {
    it("lists by message or subscription, by status, in id order, page by page, one tenant's only", async () => {
      const [a] = await twoProcesses();
      const m1 = message("acme", 1);
      const m2 = message("acme", 2);
      const h1 = await accepted(a.queue, m1, ["sub_a", "sub_b"]);
      const h2 = await accepted(a.queue, m2, ["sub_a"]);
      await accepted(a.queue, message("globex"), ["sub_a"]);
      await a.queue.record(h1[0]!, { ...h1[0]!.delivery, attempts: [attempt(400)], status: "failed", updatedAt: new Date() }, false);
      await a.queue.flush(Date.now() + 5000);
      const bySub = await a.log.list({ tenant: "acme", subscriptionId: "sub_a", limit: 10 });
      expect(bySub.map((d) => d._id)).toEqual([h1[0]!.delivery._id, h2[0]!.delivery._id].sort());
      expect((await a.log.list({ tenant: "acme", subscriptionId: "sub_a", status: "failed", limit: 10 })).map((d) => d._id)).toEqual([h1[0]!.delivery._id]);
      expect((await a.log.list({ tenant: "acme", subscriptionId: "sub_a", status: "pending", limit: 10 })).map((d) => d._id)).toEqual([h2[0]!.delivery._id]);
      const page1 = await a.log.list({ tenant: "acme", subscriptionId: "sub_a", limit: 1 });
      const page2 = await a.log.list({ tenant: "acme", subscriptionId: "sub_a", afterId: page1[0]!._id, limit: 1 });
      expect([...page1, ...page2].map((d) => d._id)).toEqual(bySub.map((d) => d._id));
      expect((await a.log.list({ tenant: "acme", messageId: m1._id, limit: 10 })).map((d) => d._id)).toEqual(ids(h1));
      expect(await a.log.get("globex", h1[0]!.delivery._id)).toBeNull();
      expect(await a.log.list({ tenant: "globex", subscriptionId: "sub_b", limit: 10 })).toEqual([]);
    });
    it("lists a whole tenant (no message or subscription), by status, within an id range, pending and finished together", async () => {
      const [a] = await twoProcesses();
      const h1 = await accepted(a.queue, message("acme", 1), ["sub_a", "sub_b"]);
      const h2 = await accepted(a.queue, message("acme", 2), ["sub_c"]);
      await accepted(a.queue, message("globex"), ["sub_a"]);
      const failed = [h1[1]!, h2[0]!];
      for (const h of failed) await a.queue.record(h, { ...h.delivery, attempts: [attempt(500)], status: "failed", updatedAt: new Date() }, false);
      // One waits for a retry: pending, in whatever place the store keeps retries.
      await a.queue.record(h1[0]!, { ...h1[0]!.delivery, attempts: [attempt(503)], nextAttemptAt: new Date(Date.now() + 60_000), updatedAt: new Date() }, false);
      await a.queue.flush(Date.now() + 5000);
      const all = [...h1, ...h2].map((h) => h.delivery._id).sort();
      expect((await a.log.list({ tenant: "acme", limit: 10 })).map((d) => d._id)).toEqual(all);
      expect((await a.log.list({ tenant: "acme", status: "failed", limit: 10 })).map((d) => d._id)).toEqual(ids(failed));
      expect((await a.log.list({ tenant: "acme", status: "pending", limit: 10 })).map((d) => d._id)).toEqual([h1[0]!.delivery._id]);
      const first = await a.log.list({ tenant: "acme", status: "failed", limit: 1 });
      const rest = await a.log.list({ tenant: "acme", status: "failed", afterId: first[0]!._id, limit: 10 });
      expect([...first, ...rest].map((d) => d._id)).toEqual(ids(failed));
      // A range: after the first, before the last.
      expect((await a.log.list({ tenant: "acme", afterId: all[0], beforeId: all[2], limit: 10 })).map((d) => d._id)).toEqual([all[1]]);
      expect((await a.log.list({ tenant: "acme", beforeId: all[0], limit: 10 })).map((d) => d._id)).toEqual([]);
      expect((await a.log.list({ tenant: "globex", status: "failed", limit: 10 })).map((d) => d._id)).toEqual([]);
    });
    it("lists by owner the owner's deliveries not attempted yet, from another process too: its events', an announcement's (beyond its first batch too), never another owner's", async () => {
      const [a, b] = await twoProcesses();
      /** A message accepted with one delivery per owner given ("" for the tenant's own). */
      const acceptFor = async (tenant: string, owners: string[]) => {
        const m = message(tenant);
        const ds = deliveriesOf(m, owners.map((_, i) => `sub_${String(i).padStart(4, "0")}`)).map((d, i) => ({ ...d, owner: owners[i]! }));
        const res = await a.queue.accept(m, ds);
        if (!("held" in res)) throw new Error("not accepted");
        return res.held;
      };
      const alices = await acceptFor("acme", ["user-alice", "user-alice"]);
      await acceptFor("acme", ["user-bob"]);
      await acceptFor("acme", [""]);
      // An announcement to 1,203 owners' endpoints, alice's first, 701st and last: two of them in batch rows.
      const many = Array.from({ length: 1203 }, (_, i) => (i === 0 || i === 700 || i === 1202 ? "user-alice" : i === 1 ? "" : `user-${i}`));
      const announced = (await acceptFor("acme", many)).filter((h) => h.delivery.owner === "user-alice");
      await acceptFor("globex", ["user-alice"]);
      const alice = [...alices, ...announced].map((h) => h.delivery._id).sort();
      // Nothing attempted yet: each lives only where it was accepted, and is listed, by either process.
      for (const p of [a, b]) expect((await p.log.list({ tenant: "acme", owner: "user-alice", limit: 10 })).map((d) => d._id)).toEqual(alice);
      expect((await b.log.list({ tenant: "acme", owner: "user-bob", limit: 10 })).map((d) => d.owner)).toEqual(["user-bob"]);
      expect((await b.log.list({ tenant: "acme", owner: "user-alice", afterId: alice[1], limit: 2 })).map((d) => d._id)).toEqual(alice.slice(2, 4));
      // One finished, one waiting for a retry: listed where they went, the others still where they were.
      await a.queue.record(alices[0]!, { ...alices[0]!.delivery, attempts: [attempt(200)], status: "delivered", updatedAt: new Date() }, false);
      await a.queue.record(announced[1]!, { ...announced[1]!.delivery, attempts: [attempt(503)], nextAttemptAt: new Date(Date.now() + 60_000), updatedAt: new Date() }, false);
      await a.queue.flush(Date.now() + 5000);
      const listed = await b.log.list({ tenant: "acme", owner: "user-alice", limit: 10 });
      expect(listed.map((d) => d._id)).toEqual(alice);
      expect(listed.find((d) => d._id === alices[0]!.delivery._id)!.status).toBe("delivered");
      expect((await b.log.list({ tenant: "acme", owner: "user-alice", status: "pending", limit: 10 })).map((d) => d._id)).toEqual(alice.filter((id) => id !== alices[0]!.delivery._id));
    });
  });

  describe("DeliveryLog order and pending count", () => {
    it("lists newest first too, pending and finished together, paged by cursor both ways (afterId up, beforeId down)", async () => {
      const [a, b] = await twoProcesses();
      // Five messages a millisecond apart or more: ids (creation times) strictly increase.
      const held: HeldDelivery[] = [];
      for (let n = 0; n < 5; n++) {
        held.push(...(await accepted(a.queue, message("acme", n), ["sub_a"])));
        await sleep(2);
      }
      await accepted(a.queue, message("globex"), ["sub_a"]);
      // One finished (log), one waiting for a retry (queue), three not attempted yet (their batches).
      await a.queue.record(held[1]!, { ...held[1]!.delivery, attempts: [attempt(500)], status: "failed", updatedAt: new Date() }, false);
      await a.queue.record(held[3]!, { ...held[3]!.delivery, attempts: [attempt(503)], nextAttemptAt: new Date(Date.now() + 60_000), updatedAt: new Date() }, false);
      await a.queue.flush(Date.now() + 5000);
      const up = held.map((h) => h.delivery._id).sort();
      const down = [...up].reverse();
      for (const q of [{}, { subscriptionId: "sub_a" }]) {
        expect((await b.log.list({ tenant: "acme", ...q, limit: 10 })).map((d) => d._id)).toEqual(up);
        expect((await b.log.list({ tenant: "acme", ...q, newestFirst: true, limit: 10 })).map((d) => d._id)).toEqual(down);
        // Two at a time, each page past the last id of the one before, in either order.
        const pageUp: string[] = [];
        const pageDown: string[] = [];
        for (let cursor: string | undefined, i = 0; i < 4; i++) {
          const page = await b.log.list({ tenant: "acme", ...q, afterId: cursor, limit: 2 });
          pageUp.push(...page.map((d) => d._id));
          if (page.length < 2) break;
          cursor = page.at(-1)!._id;
        }
        for (let cursor: string | undefined, i = 0; i < 4; i++) {
          const page = await b.log.list({ tenant: "acme", ...q, beforeId: cursor, newestFirst: true, limit: 2 });
          pageDown.push(...page.map((d) => d._id));
          if (page.length < 2) break;
          cursor = page.at(-1)!._id;
        }
        expect(pageUp).toEqual(up);
        expect(pageDown).toEqual(down);
      }
      // By status and by message, newest first.
      expect((await b.log.list({ tenant: "acme", status: "pending", newestFirst: true, limit: 2 })).map((d) => d._id)).toEqual([up[4], up[3]]);
      expect((await b.log.list({ tenant: "acme", status: "pending", newestFirst: true, beforeId: up[3], limit: 10 })).map((d) => d._id)).toEqual([up[2], up[0]]);
      expect((await b.log.list({ tenant: "acme", messageId: held[1]!.delivery.messageId, newestFirst: true, limit: 10 })).map((d) => d.status)).toEqual(["failed"]);
    });

    it("counts pending deliveries of every tenant in the store, whichever process holds them, up to a cap", async () => {
      const [a, b] = await twoProcesses();
      expect(await b.log.countPending(100)).toBe(0);
      const h1 = await accepted(a.queue, message("acme", 1), ["sub_a", "sub_b", "sub_c"]);
      await accepted(b.queue, message("globex", 2), ["sub_a"]);
      // Nothing attempted: four pending wherever they were accepted, seen alike by both processes.
      expect(await a.log.countPending(100)).toBe(4);
      expect(await b.log.countPending(100)).toBe(4);
      expect(await b.log.countPending(3)).toBe(3);
      // One delivered, one waiting for a retry: three pending.
      await a.queue.record(h1[0]!, { ...h1[0]!.delivery, attempts: [attempt(200)], status: "delivered", updatedAt: new Date() }, false);
      await a.queue.record(h1[1]!, { ...h1[1]!.delivery, attempts: [attempt(503)], nextAttemptAt: new Date(Date.now() + 60_000), updatedAt: new Date() }, false);
      await a.queue.flush(Date.now() + 5000);
      expect(await b.log.countPending(100)).toBe(3);
      expect(await b.log.countPending(1)).toBe(1);
    });
  });

  describe("Recoveries", () => {
    it("marks each original once, whichever process asks, and gives marks back", async () => {
      const [a, b] = await twoProcesses();
      const pairs = [1, 2, 3].map(() => ({ original: newId("dlv"), redelivery: newId("dlv") }));
      expect([...(await a.recoveries.mark("acme", pairs.slice(0, 2)))].sort()).toEqual(pairs.slice(0, 2).map((p) => p.original).sort());
      // Asked again (or by another process), only the one not marked yet is answered.
      const again = pairs.map((p) => ({ original: p.original, redelivery: newId("dlv") }));
      expect([...(await b.recoveries.mark("acme", again))]).toEqual([pairs[2]!.original]);
      expect(await a.recoveries.mark("acme", [])).toEqual(new Set());
      await a.recoveries.unmark([pairs[0]!.original]);
      expect([...(await b.recoveries.mark("acme", again))]).toEqual([pairs[0]!.original]);
    });

    it("links an original to its newest redelivery (Redeliver), read back by id for its tenant only; a later mark leaves it", async () => {
      const [a, b] = await twoProcesses();
      const [x, y, z] = [newId("dlv"), newId("dlv"), newId("dlv")];
      const [r1, r2] = [newId("dlv"), newId("dlv")];
      await a.recoveries.link("acme", x, r1);
      expect(await b.recoveries.redeliveries("acme", [x, y])).toEqual(new Map([[x, r1]]));
      // Redelivered again: the newest wins.
      await b.recoveries.link("acme", x, r2);
      expect(await a.recoveries.redeliveries("acme", [x])).toEqual(new Map([[x, r2]]));
      // A recovery over a linked delivery makes no second redelivery; over another it marks and links.
      expect([...(await a.recoveries.mark("acme", [{ original: x, redelivery: newId("dlv") }, { original: z, redelivery: r1 }]))]).toEqual([z]);
      expect(await b.recoveries.redeliveries("acme", [x, y, z])).toEqual(new Map([[x, r2], [z, r1]]));
      expect(await b.recoveries.redeliveries("globex", [x, z])).toEqual(new Map());
      expect(await b.recoveries.redeliveries("acme", [])).toEqual(new Map());
    });

    it("forgets the marks of deliveries older than retention's age, a bounded number at a time", async () => {
      const [a] = await twoProcesses();
      const now = Date.now();
      // Delivery ids begin with their creation time: these three were made 40 days ago, this one now.
      const old = [3, 2, 1].map((n) => `${idFloor("dlv", now - 40 * 86_400_000 - n)}${"0".repeat(20)}`);
      const young = newId("dlv");
      await a.recoveries.mark("acme", [...old, young].map((original) => ({ original, redelivery: newId("dlv") })));
      const cutoff = new Date(now - 30 * 86_400_000);
      expect(await a.recoveries.forget(cutoff, 2)).toBe(2);
      expect(await a.recoveries.forget(cutoff, 2)).toBe(1);
      expect(await a.recoveries.forget(cutoff, 2)).toBe(0);
      // Forgotten marks can be made again; the young one is still there.
      const again = [...old, young].map((original) => ({ original, redelivery: newId("dlv") }));
      expect([...(await a.recoveries.mark("acme", again))].sort()).toEqual([...old].sort());
    });
  });

  describe("Retention", () => {
    const HOUR = 3_600_000;
    /** Written through the store as if accepted an hour (or `ms`) ago: retention goes by createdAt. */
    const aged = (m: Message, ms = HOUR): Message => ({ ...m, createdAt: new Date(Date.now() - ms) });
    const finish = (queue: DeliveryQueue, item: HeldDelivery) =>
      queue.record(item, { ...item.delivery, attempts: [attempt(200)], status: "delivered", updatedAt: new Date() }, false);
    const stored = async (s: StorePorts, m: Message) => (await s.messages.byId(m._id)) !== null;

    it("removes old finished messages with their deliveries; keeps recent ones and old ones still pending", async () => {
      const [a, b] = await twoProcesses();
      const done = aged(message("acme"));
      const [doneItem] = await accepted(a.queue, done, ["sub_1"]);
      await finish(a.queue, doneItem!);
      const empty = aged(message("acme")); // no subscription matched
      await accepted(a.queue, empty, []);
      const retrying = aged(message("acme"));
      const [retryItem] = await accepted(a.queue, retrying, ["sub_1"]);
      await a.queue.record(retryItem!, { ...retryItem!.delivery, attempts: [attempt(500)], updatedAt: new Date(), nextAttemptAt: new Date(Date.now() + HOUR) }, false);
      const unattempted = aged(message("acme")); // held, no outcome yet
      // Alone in what it was accepted with (the FerretDB layout's lot, about 100 ms here), which stays while it waits.
      // Sleeps: a lot is a time window (holdMs / 4), and none of the ports tells when one closes.
      await sleep(150);
      const waiting = await accepted(a.queue, unattempted, ["sub_1", "sub_2"]);
      await sleep(150);
      const redelivered = aged(message("globex"));
      const [first] = await accepted(a.queue, redelivered, ["sub_9"]);
      await finish(a.queue, first!);
      const [again] = await a.queue.add(deliveriesOf(redelivered, ["sub_9"]));
      const recent = message("acme");
      const [recentItem] = await accepted(a.queue, recent, ["sub_1"]);
      await finish(a.queue, recentItem!);
      await sleep(300); // a sleep: lots whose deliveries all have an outcome end once their window is over

      const res = await b.retention.sweep(new Date(Date.now() - HOUR / 2), 100);
      expect(res).toEqual({ messages: 2, more: false });
      expect(await stored(a, done)).toBe(false);
      expect(await a.log.get("acme", doneItem!.delivery._id)).toBeNull();
      expect(await stored(a, empty)).toBe(false);
      for (const kept of [retrying, unattempted, redelivered, recent]) expect(await stored(a, kept)).toBe(true);
      expect((await a.log.list({ tenant: "acme", messageId: retrying._id, limit: 10 })).map((d) => d.status)).toEqual(["pending"]);
      expect(await a.log.list({ tenant: "acme", messageId: unattempted._id, limit: 10 })).toHaveLength(2);
      expect(await a.log.list({ tenant: "globex", messageId: redelivered._id, limit: 10 })).toHaveLength(2);
      expect(await a.log.get("acme", recentItem!.delivery._id)).not.toBeNull();

      // Once they finish, the old ones go too; the recent one stays.
      await finish(a.queue, retryItem!);
      await finish(a.queue, waiting[0]!);
      await sleep(300); // a sleep: as above, their lots end
      expect((await b.retention.sweep(new Date(Date.now() - HOUR / 2), 100)).messages).toBe(1); // the retried one
      expect(await stored(a, unattempted)).toBe(true); // one of its two deliveries still waits
      expect(await stored(a, redelivered)).toBe(true);
      await finish(a.queue, waiting[1]!);
      await finish(a.queue, again!);
      await sleep(300); // a sleep: as above
      expect((await b.retention.sweep(new Date(Date.now() - HOUR / 2), 100)).messages).toBe(2);
      for (const gone of [retrying, unattempted, redelivered]) expect(await stored(a, gone)).toBe(false);
      expect(await a.log.list({ tenant: "globex", messageId: redelivered._id, limit: 10 })).toEqual([]);
      expect(await a.log.list({ tenant: "acme", messageId: unattempted._id, limit: 10 })).toEqual([]);
      expect(await stored(a, recent)).toBe(true);
    });

    it("works in bounded chunks, and sweeps of two processes at once remove each message once", async () => {
      const [a, b] = await twoProcesses();
      const old: Message[] = [];
      for (let i = 0; i < 7; i++) {
        const m = aged(message("acme", i));
        const [item] = await accepted(a.queue, m, ["sub_1"]);
        await finish(a.queue, item!);
        old.push(m);
      }
      await sleep(300); // a sleep: their lots' window is over and they end
      const before = new Date(Date.now() - HOUR / 2);
      expect(await a.retention.sweep(before, 3)).toEqual({ messages: 3, more: true });
      const [x, y] = await Promise.all([a.retention.sweep(before, 100), b.retention.sweep(before, 100)]);
      expect(x.messages + y.messages).toBeGreaterThanOrEqual(4);
      expect(x.more || y.more).toBe(false);
      for (const m of old) expect(await stored(a, m)).toBe(false);
      expect(await a.log.list({ tenant: "acme", limit: 100 })).toEqual([]);
      expect(await b.retention.sweep(before, 100)).toEqual({ messages: 0, more: false });
    });
  });

  describe("Subscriptions, Messages and SendSecrets", () => {
    it("keep subscriptions per tenant, secrets given back in plain text, the active set current", async () => {
      const [a, b] = await twoProcesses();
      const now = new Date();
      const sub = {
        _id: newId("sub"),
        tenant: "acme",
        owner: "",
        url: "http://127.0.0.1:9/a",
        events: ["order.*"],
        secret: "whsec_" + randomBytes(32).toString("base64"),
        description: "",
        createdAt: now,
        updatedAt: now,
        disabled: false,
        disabledReason: "",
        policy: { retries: 1 },
      };
      await a.subscriptions.insert(sub);
      expect(await b.subscriptions.get("acme", sub._id)).toEqual(sub);
      expect(await b.subscriptions.get("globex", sub._id)).toBeNull();
      expect((await b.subscriptions.activeById("acme", "", sub._id))?.secret).toBe(sub.secret);
      const rotated = await a.subscriptions.update("acme", sub._id, { secret: "whsec_" + randomBytes(32).toString("base64"), previousSecrets: [{ secret: sub.secret, expiresAt: now }] }, new Date());
      expect(rotated!.previousSecrets![0]!.secret).toBe(sub.secret);
      // activeById may be up to a quarter of a second behind another process's change: seen within 300 ms.
      const caughtUp = { timeoutMs: 300, intervalMs: 20 };
      await waitFor(async () => (await b.subscriptions.activeById("acme", "", sub._id))?.secret === rotated!.secret, { ...caughtUp, what: "the rotated secret" });
      expect((await b.subscriptions.activeById("acme", "", sub._id))?.secret).toBe(rotated!.secret);
      await a.subscriptions.update("acme", sub._id, { disabled: true, disabledReason: "test" }, new Date());
      await waitFor(async () => (await b.subscriptions.activeById("acme", "", sub._id)) === undefined, { ...caughtUp, what: "the disabled subscription gone from the active set" });
      expect(await b.subscriptions.activeById("acme", "", sub._id)).toBeUndefined();
      expect(await b.subscriptions.active("acme", { owner: "" })).toEqual([]);
      expect((await b.subscriptions.list("acme", undefined, 10)).map((s) => s._id)).toEqual([sub._id]);
      expect((await b.subscriptions.list("acme", undefined, 10, undefined, true)).map((s) => s._id)).toEqual([sub._id]);
      expect(await a.subscriptions.delete("globex", sub._id)).toBe(false);
      expect(await a.subscriptions.delete("acme", sub._id)).toBe(true);
      expect(await b.subscriptions.get("acme", sub._id)).toBeNull();
    });

    it("count a tenant's subscriptions, disabled ones included, across processes, one tenant's only", async () => {
      const [a, b] = await twoProcesses();
      const now = new Date();
      const sub = (tenant: string) => ({ _id: newId("sub"), tenant, owner: "", url: "http://127.0.0.1:9/q", events: ["*"], secret: "s", description: "", createdAt: now, updatedAt: now, disabled: false, disabledReason: "", policy: {} });
      expect(await a.subscriptions.count("acme")).toBe(0);
      const mine = [sub("acme"), sub("acme"), sub("acme")];
      for (const s of mine) await a.subscriptions.insert(s);
      await b.subscriptions.insert(sub("globex"));
      expect(await b.subscriptions.count("acme")).toBe(3);
      await b.subscriptions.disable("acme", mine[0]!._id, "test", new Date());
      await a.subscriptions.update("acme", mine[1]!._id, { description: "changed" }, new Date());
      expect(await a.subscriptions.count("acme")).toBe(3);
      expect(await b.subscriptions.delete("acme", mine[2]!._id)).toBe(true);
      // Neither a repeated delete nor another tenant's moves the count.
      expect(await a.subscriptions.delete("acme", mine[2]!._id)).toBe(false);
      expect(await a.subscriptions.delete("globex", mine[1]!._id)).toBe(false);
      expect(await a.subscriptions.count("acme")).toBe(2);
      expect(await a.subscriptions.count("globex")).toBe(1);
      expect(await b.subscriptions.count("initech")).toBe(0);
    });

    it("keep owners apart: an owner's active set, list and count hold only its own, the tenant's own set only those with no owner", async () => {
      const [a, b] = await twoProcesses();
      const now = new Date();
      const sub = (tenant: string, owner: string) => ({ _id: newId("sub"), tenant, owner, url: "http://127.0.0.1:9/o", events: ["*"], secret: "s", description: "", createdAt: now, updatedAt: now, disabled: false, disabledReason: "", policy: {} });
      const alice = [sub("acme", "user-alice"), sub("acme", "user-alice")];
      const bob = sub("acme", "user-bob");
      const own = sub("acme", "");
      const otherTenant = sub("globex", "user-alice");
      for (const s of [...alice, bob, own, otherTenant]) await a.subscriptions.insert(s);
      const ids = (subs: Array<{ _id: string }>) => subs.map((s) => s._id).sort();
      expect(ids(await b.subscriptions.active("acme", { owner: "user-alice" }))).toEqual(ids(alice));
      expect(ids(await b.subscriptions.active("acme", { owner: "user-bob" }))).toEqual([bob._id]);
      expect(ids(await b.subscriptions.active("acme", { owner: "" }))).toEqual([own._id]);
      expect(ids(await b.subscriptions.active("acme", { owner: "user-carol" }))).toEqual([]);
      expect(ids(await b.subscriptions.active("acme", "all-owners"))).toEqual(ids([...alice, bob, own]));
      expect(ids(await b.subscriptions.active("globex", { owner: "user-alice" }))).toEqual([otherTenant._id]);
      // Lists by owner, in pages; without an owner, every one of the tenant's.
      const first = await b.subscriptions.list("acme", undefined, 1, "user-alice");
      const rest = await b.subscriptions.list("acme", first[0]!._id, 10, "user-alice");
      expect(ids([...first, ...rest])).toEqual(ids(alice));
      expect(await b.subscriptions.list("acme", undefined, 10, "user-bob")).toMatchObject([{ _id: bob._id, owner: "user-bob" }]);
      expect((await b.subscriptions.list("acme", undefined, 10)).length).toBe(4);
      // Newest first, paged down by cursor: the same subscriptions in the reverse order.
      const acme = ids([...alice, bob, own]);
      const top = await b.subscriptions.list("acme", undefined, 2, undefined, true);
      const below = await b.subscriptions.list("acme", top.at(-1)!._id, 10, undefined, true);
      expect([...top, ...below].map((s) => s._id)).toEqual([...acme].reverse());
      const aliceDown = await b.subscriptions.list("acme", undefined, 1, "user-alice", true);
      expect([...aliceDown, ...(await b.subscriptions.list("acme", aliceDown[0]!._id, 10, "user-alice", true))].map((s) => s._id)).toEqual(ids(alice).reverse());
      // An attempt finds a subscription only under its own owner.
      expect((await b.subscriptions.activeById("acme", "user-bob", bob._id))?._id).toBe(bob._id);
      expect(await b.subscriptions.activeById("acme", "user-alice", bob._id)).toBeUndefined();
      expect(await b.subscriptions.activeById("acme", "", bob._id)).toBeUndefined();
      // Counts per owner and per tenant, across processes; a delete moves its owner's.
      expect(await b.subscriptions.count("acme", "user-alice")).toBe(2);
      expect(await b.subscriptions.count("acme", "user-bob")).toBe(1);
      expect(await b.subscriptions.count("acme")).toBe(4);
      expect(await b.subscriptions.delete("acme", alice[0]!._id)).toBe(true);
      expect(await a.subscriptions.count("acme", "user-alice")).toBe(1);
      expect(await a.subscriptions.count("acme")).toBe(3);
      // A change to one owner's subscription is seen in that owner's set by the other process.
      await a.subscriptions.disable("acme", alice[1]!._id, "test", new Date());
      expect(await b.subscriptions.active("acme", { owner: "user-alice" })).toEqual([]);
      expect(ids(await b.subscriptions.active("acme", { owner: "user-bob" }))).toEqual([bob._id]);
    });

    it("keep extra headers and a rate limit: given back as stored, replaced whole, removed by an empty list; none stored when absent", async () => {
      const [a, b] = await twoProcesses();
      const now = new Date();
      const headers = [
        { name: "authorization", value: "Bearer t0ken" },
        { name: "x.odd$name", value: "é ÿ" },
      ];
      const plain = { _id: newId("sub"), tenant: "acme", owner: "", url: "http://127.0.0.1:9/p", events: ["*"], secret: "s", description: "", createdAt: now, updatedAt: now, disabled: false, disabledReason: "", policy: {} };
      const sub = { ...plain, _id: newId("sub"), owner: "user-h", headers, rateLimitPerSecond: 10 };
      await a.subscriptions.insert(plain);
      await a.subscriptions.insert(sub);
      expect(await b.subscriptions.get("acme", sub._id)).toEqual(sub);
      expect(await b.subscriptions.get("acme", plain._id)).toEqual(plain);
      expect((await b.subscriptions.activeById("acme", "user-h", sub._id))?.headers).toEqual(headers);
      expect((await b.subscriptions.list("acme", undefined, 10, "user-h"))[0]).toMatchObject({ headers, rateLimitPerSecond: 10 });
      const replaced = await a.subscriptions.update("acme", sub._id, { headers: [{ name: "x-only", value: "1" }], rateLimitPerSecond: 0 }, new Date());
      expect(replaced).toMatchObject({ headers: [{ name: "x-only", value: "1" }], rateLimitPerSecond: 0 });
      await waitFor(async () => (await b.subscriptions.activeById("acme", "user-h", sub._id))?.headers?.[0]?.name === "x-only", { timeoutMs: 300, intervalMs: 20, what: "the replaced headers" });
      const cleared = await a.subscriptions.update("acme", sub._id, { headers: [] }, new Date());
      expect(cleared!.headers ?? []).toEqual([]);
      expect((await b.subscriptions.get("acme", sub._id))!.headers ?? []).toEqual([]);
    });

    it("disable only an active subscription: the first call answers it, a second finds it disabled", async () => {
      const [a, b] = await twoProcesses();
      const now = new Date();
      const sub = { _id: newId("sub"), tenant: "acme", owner: "", url: "http://127.0.0.1:9/d", events: ["*"], secret: "s", description: "", createdAt: now, updatedAt: now, disabled: false, disabledReason: "", policy: {} };
      await a.subscriptions.insert(sub);
      expect(await b.subscriptions.disable("globex", sub._id, "no", new Date())).toBeNull();
      const disabled = await b.subscriptions.disable("acme", sub._id, "failing for days", new Date());
      expect(disabled).toMatchObject({ _id: sub._id, disabled: true, disabledReason: "failing for days", secret: "s" });
      expect(await a.subscriptions.disable("acme", sub._id, "again", new Date())).toBeNull();
      expect(await a.subscriptions.get("acme", sub._id)).toMatchObject({ disabled: true, disabledReason: "failing for days" });
      expect(await a.subscriptions.active("acme", { owner: "" })).toEqual([]);
    });
  });

  describe("EventTypes", () => {
    const at = new Date(Date.UTC(2026, 0, 1));
    const entry = (tenant: string, name: string, fields: Partial<EventType> = {}): EventType => ({ tenant, name, description: `about ${name}`, createdAt: at, updatedAt: at, ...fields });

    it("keep entries per tenant by name, listed in name order page by page; a name taken is refused", async () => {
      const [a, b] = await twoProcesses();
      // '-' and '.' sort below digits and letters, '-' below '.': the order must be the names' own.
      const names = ["order.created", "order-x.y", "order.created.v2", "order_z", "Order.A", "order", "a.b"];
      for (const name of names) expect(await a.eventTypes.insert(entry("acme", name))).toBe(true);
      expect(await b.eventTypes.insert(entry("globex", "order.created"))).toBe(true);
      expect(await b.eventTypes.insert(entry("acme", "order.created", { description: "again" }))).toBe(false);
      expect(await b.eventTypes.get("acme", "order.created")).toEqual(entry("acme", "order.created"));
      expect(await b.eventTypes.get("acme", "order.missing")).toBeNull();
      expect(await a.eventTypes.get("initech", "order.created")).toBeNull();
      const listed: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await b.eventTypes.list("acme", after, 3);
        listed.push(...page.map((e) => e.name));
        if (page.length < 3) break;
        after = page[page.length - 1]!.name;
      }
      expect(listed).toEqual([...names].sort());
      expect((await a.eventTypes.list("globex", undefined, 10)).map((e) => e.name)).toEqual(["order.created"]);
      expect(await a.eventTypes.delete("globex", "order")).toBe(false);
      expect(await a.eventTypes.delete("acme", "order")).toBe(true);
      expect(await b.eventTypes.delete("acme", "order")).toBe(false);
      expect(await b.eventTypes.get("acme", "order")).toBeNull();
    });

    it("update the whole changeable state (an absent field goes), and count a tenant's entries across processes", async () => {
      const [a, b] = await twoProcesses();
      const schema = '{"type":"object"}';
      await a.eventTypes.insert(entry("acme", "invoice.paid", { schema, schemaDigest: "d1", example: '{"id":1}' }));
      await b.eventTypes.insert(entry("acme", "invoice.due"));
      await b.eventTypes.insert(entry("globex", "invoice.due"));
      expect(await a.eventTypes.count("acme")).toBe(2);
      const later = new Date(at.getTime() + 1000);
      expect(await b.eventTypes.update("acme", "invoice.paid", { description: "paid", example: "[1]" }, later)).toEqual(
        entry("acme", "invoice.paid", { description: "paid", example: "[1]", updatedAt: later }),
      );
      expect(await a.eventTypes.get("acme", "invoice.paid")).toEqual(entry("acme", "invoice.paid", { description: "paid", example: "[1]", updatedAt: later }));
      expect(await a.eventTypes.update("globex", "invoice.paid", { description: "x" }, later)).toBeNull();
      expect(await a.eventTypes.delete("acme", "invoice.due")).toBe(true);
      expect(await b.eventTypes.count("acme")).toBe(1);
      expect(await b.eventTypes.count("globex")).toBe(1);
      expect(await b.eventTypes.count("initech")).toBe(0);
    });

    it("answer a schema's digest on every call with every change another process made before it", async () => {
      const [a, b] = await twoProcesses();
      // Asked before anything exists: whatever b keeps of the tenant must not hide what follows.
      expect(await b.eventTypes.schemaDigest("acme", "order.created")).toBeUndefined();
      await a.eventTypes.insert(entry("acme", "order.created", { schema: "{}", schemaDigest: "d1" }));
      await a.eventTypes.insert(entry("acme", "order.paid"));
      expect(await b.eventTypes.schemaDigest("acme", "order.created")).toBe("d1");
      expect(await b.eventTypes.schemaDigest("acme", "order.paid")).toBeUndefined();
      expect(await b.eventTypes.schemaDigest("globex", "order.created")).toBeUndefined();
      await a.eventTypes.update("acme", "order.created", { description: "", schema: '{"type":"object"}', schemaDigest: "d2" }, new Date());
      expect(await b.eventTypes.schemaDigest("acme", "order.created")).toBe("d2");
      await b.eventTypes.update("acme", "order.paid", { description: "", schema: "{}", schemaDigest: "d3" }, new Date());
      expect(await a.eventTypes.schemaDigest("acme", "order.paid")).toBe("d3");
      await a.eventTypes.update("acme", "order.created", { description: "no schema" }, new Date());
      expect(await b.eventTypes.schemaDigest("acme", "order.created")).toBeUndefined();
      await a.eventTypes.delete("acme", "order.paid");
      expect(await b.eventTypes.schemaDigest("acme", "order.paid")).toBeUndefined();
    });
  });

  describe("HealthLog", () => {
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    const change = (tenant: string, subscriptionId: string, fields: Partial<HealthChange>): HealthChange => ({
      tenant, subscriptionId, succeeded: 0, failed: 0, lastError: "", cleared: false, streakFailures: 0, ...fields,
    });

    it("adds changes from two processes up; a success restarts the streak; answers the failing ones as stored", async () => {
      const [a, b] = await twoProcesses();
      const id = newId("sub");
      const ok = await a.health.add([change("acme", id, { succeeded: 2, lastSuccessAt: t(1), cleared: true })]);
      expect(ok.size).toBe(0); // not failing: nothing to judge
      const f1 = await a.health.add([change("acme", id, { failed: 3, lastFailureAt: t(5), lastError: "HTTP 500", streakFailures: 3, streakSince: t(3) })]);
      expect(f1.get(id)).toMatchObject({ attemptsSucceeded: 2, attemptsFailed: 3, consecutiveFailures: 3, failingSince: t(3), lastError: "HTTP 500", lastSuccessAt: t(1), lastFailureAt: t(5) });
      // Another process's later failures add to the streak; its start stays the earliest.
      const f2 = await b.health.add([change("acme", id, { failed: 2, lastFailureAt: t(4), lastError: "timed out after 100 ms", streakFailures: 2, streakSince: t(2) })]);
      expect(f2.get(id)).toMatchObject({ attemptsFailed: 5, consecutiveFailures: 5, failingSince: t(2), lastFailureAt: t(5), lastError: "timed out after 100 ms" });
      // A success followed by one failure: the streak is that one failure, from its time.
      const f3 = await b.health.add([change("acme", id, { succeeded: 1, failed: 1, lastSuccessAt: t(6), lastFailureAt: t(7), lastError: "HTTP 502", cleared: true, streakFailures: 1, streakSince: t(7) })]);
      expect(f3.get(id)).toMatchObject({ attemptsSucceeded: 3, attemptsFailed: 6, consecutiveFailures: 1, failingSince: t(7), lastSuccessAt: t(6) });
      await a.health.add([change("acme", id, { succeeded: 1, lastSuccessAt: t(8), cleared: true })]);
      const healed = (await b.health.get("acme", [id])).get(id)!;
      expect(healed).toMatchObject({ attemptsSucceeded: 4, attemptsFailed: 6, consecutiveFailures: 0, lastError: "HTTP 502", lastFailureAt: t(7), lastSuccessAt: t(8) });
      expect(healed.failingSince).toBeUndefined();
    });

    it("counts finished deliveries by outcome over the last 24 hours, across processes; an hour a day old starts its slot again", async () => {
      const [a, b] = await twoProcesses();
      const id = newId("sub");
      const hour = Math.floor(Date.now() / 3_600_000);
      const recent = async () => {
        const h = (await b.health.get("acme", [id])).get(id)!;
        return [h.recentDeliveriesSucceeded, h.recentDeliveriesFailed];
      };
      // A day ago (outside the window), in the slot this hour uses again.
      await a.health.add([change("acme", id, { succeeded: 5, deliveriesSucceeded: 5, hour: hour - 24, lastSuccessAt: t(1), cleared: true })]);
      expect(await recent()).toEqual([0, 0]);
      // This hour, from two processes: one delivery that needed three attempts counts as one success.
      await a.health.add([change("acme", id, { succeeded: 1, failed: 2, deliveriesSucceeded: 1, hour, lastSuccessAt: t(3), cleared: true })]);
      await b.health.add([change("acme", id, { failed: 3, deliveriesFailed: 1, hour, lastFailureAt: t(4), lastError: "HTTP 500", streakFailures: 3, streakSince: t(4) })]);
      expect(await recent()).toEqual([1, 1]);
      // Earlier in the window (23 hours ago) counts; a change without deliveries leaves the counts.
      await b.health.add([change("acme", id, { deliveriesSucceeded: 2, hour: hour - 23 })]);
      await a.health.add([change("acme", id, { succeeded: 1, lastSuccessAt: t(5), cleared: true })]);
      expect(await recent()).toEqual([3, 1]);
      expect((await b.health.get("acme", [id])).get(id)).toMatchObject({ attemptsSucceeded: 7, attemptsFailed: 5 });
    });

    it("gives a tenant its own only, restarts a streak on request and forgets a dropped subscription", async () => {
      const [a, b] = await twoProcesses();
      const [x, y] = [newId("sub"), newId("sub")];
      await a.health.add([
        change("acme", x, { failed: 4, lastFailureAt: t(4), lastError: "HTTP 500", streakFailures: 4, streakSince: t(1) }),
        change("globex", y, { succeeded: 1, lastSuccessAt: t(1), cleared: true }),
      ]);
      expect([...(await b.health.get("acme", [x, y, "sub_never"])).keys()]).toEqual([x]);
      expect(await b.health.get("globex", [x])).toEqual(new Map());
      await b.health.restartStreak("globex", x); // another tenant's: no effect
      expect((await a.health.get("acme", [x])).get(x)).toMatchObject({ consecutiveFailures: 4, failingSince: t(1) });
      await b.health.restartStreak("acme", x);
      const restarted = (await a.health.get("acme", [x])).get(x)!;
      expect(restarted).toMatchObject({ consecutiveFailures: 0, attemptsFailed: 4, lastError: "HTTP 500" });
      expect(restarted.failingSince).toBeUndefined();
      await a.health.drop("globex", x);
      expect((await a.health.get("acme", [x])).size).toBe(1);
      await a.health.drop("acme", x);
      expect((await b.health.get("acme", [x])).size).toBe(0);
    });
  });

  describe("PortalSessions", () => {
    const hour = 3_600_000;
    let n = 0;
    /** A session of the tenant's owner, expiring `inMs` from now (negative: expired). */
    const session = (tenant: string, owner: string, inMs: number, theme?: PortalTheme): PortalSession => {
      const now = Date.now();
      return { digest: portalTokenDigest(`hwp_${String(++n).padStart(43, "x")}`), tenant, owner, createdAt: new Date(now - hour), expiresAt: new Date(now + inMs), ...(theme ? { theme } : {}) };
    };
    const withoutTheme = ({ theme: _t, ...rest }: PortalSession) => rest;

    it("keep a session by its token's digest, its theme (up to a 32 KiB logo) read only when asked for", async () => {
      const [a, b] = await twoProcesses();
      const logo = `data:image/png;base64,${"A".repeat(32 * 1024 - 22)}`;
      const themed = session("acme", "customer-42", hour, { accentColor: "#12ab9F", logoUrl: logo, colorScheme: "dark", title: "Webhooks for Acme" });
      const plain = session("acme", "customer-43", hour);
      await a.portalSessions.create(themed);
      await a.portalSessions.create({ ...plain, theme: { ...NO_THEME } });
      expect(await b.portalSessions.byDigest(themed.digest)).toEqual(withoutTheme(themed));
      expect(await b.portalSessions.byDigest(themed.digest, true)).toEqual(themed);
      expect(await b.portalSessions.byDigest(plain.digest, true)).toEqual({ ...plain, theme: NO_THEME });
      expect(await b.portalSessions.byDigest(portalTokenDigest("hwp_never-made"))).toBeNull();
    });

    it("revoke every session of one owner of one tenant, expired ones too, answering how many were live", async () => {
      const [a, b] = await twoProcesses();
      const alice = [session("acme", "alice", hour), session("acme", "alice", 2 * hour), session("acme", "alice", -1000)];
      const others = [session("acme", "bob", hour), session("globex", "alice", hour), session("acme", "alice-2", hour)];
      for (const s of [...alice, ...others]) await a.portalSessions.create(s);
      expect(await b.portalSessions.revokeOwner("acme", "alice", new Date())).toBe(2);
      for (const s of alice) expect(await a.portalSessions.byDigest(s.digest)).toBeNull();
      for (const s of others) expect(await a.portalSessions.byDigest(s.digest)).toEqual(withoutTheme(s));
      expect(await a.portalSessions.revokeOwner("acme", "alice", new Date())).toBe(0);
      expect(await a.portalSessions.revokeOwner("initech", "bob", new Date())).toBe(0);
    });

    it("remove expired sessions a bounded number at a time, from any process, keeping live ones", async () => {
      const [a, b] = await twoProcesses();
      const expired = Array.from({ length: 5 }, (_, i) => session("acme", `o${i}`, -1000 - i));
      const live = [session("acme", "o0", hour), session("globex", "o9", 60_000)];
      for (const s of [...expired, ...live]) await a.portalSessions.create(s);
      const now = new Date();
      expect(await b.portalSessions.removeExpired(now, 3)).toBe(3);
      expect(await a.portalSessions.removeExpired(now, 3)).toBe(2);
      expect(await b.portalSessions.removeExpired(now, 3)).toBe(0);
      for (const s of expired) expect(await a.portalSessions.byDigest(s.digest)).toBeNull();
      for (const s of live) expect(await b.portalSessions.byDigest(s.digest)).toEqual(withoutTheme(s));
    });
  });

  describe("Messages and SendSecrets", () => {
    it("give a message to its tenant only, and a Send's secret until it is dropped", async () => {
      const [a, b] = await twoProcesses();
      const m = message("acme");
      await accepted(a.queue, m, []);
      expect(await b.messages.get("globex", m._id)).toBeNull();
      expect((await b.messages.byId(m._id))?.tenant).toBe("acme");
      const other = message("acme");
      await accepted(a.queue, other, ["sub_1"]);
      expect(await b.messages.existing([m._id, "msg_never_stored", other._id, m._id])).toEqual(new Set([m._id, other._id]));
      await a.sendSecrets.keep("acme", "dlv_1", "plain secret");
      expect(await b.sendSecrets.get("acme", "dlv_1")).toBe("plain secret");
      expect(await b.sendSecrets.get("globex", "dlv_1")).toBeUndefined();
      await b.sendSecrets.drop(["dlv_1"]);
      expect(await a.sendSecrets.get("acme", "dlv_1")).toBeUndefined();
    });
  });
});
