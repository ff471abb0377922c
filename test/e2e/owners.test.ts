// Owners: a platform's customers in one tenant. Endpoints of three owners and of the tenant itself, on
// real receivers on 127.0.0.1, and Triggers for each owner, for none and for all of them, through the SDK as
// a platform calls it. Every path is checked to reach exactly its owner's endpoints: the first attempt,
// retries, Redeliver, RecoverDeliveries and Hookwire's own operational events.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookManager, InvalidArgumentError, type Delivery, type HookwireManager } from "@hookwire/sdk";
import { Code } from "@connectrpc/connect";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { waitFor } from "../helpers/wait.js";
import { bearer, failure, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";

let server: RunningServer;
let rcv: Receiver;
let acme: HookwireManager;

const OWNERS = ["user-alice", "user-bob", "user-carol"] as const;
/** The receiver's path of each owner's endpoint, and of the tenant's own ("" owner). */
const pathOf = (owner: string) => `/${owner || "tenant"}`;
const opsPathOf = (owner: string) => `/${owner || "tenant"}-ops`;
const subs = new Map<string, string>(); // path → subscription id
/** How each path answers: 200 unless set (a function of the request's number at that path). */
const answers = new Map<string, (n: number) => number>();

beforeAll(async () => {
  rcv = await startReceiver();
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_POLL_MS: "100", HOOKWIRE_MAX_SUBSCRIPTIONS_PER_OWNER: "3" } });
  acme = createWebhookManager({ baseUrl: server.baseUrl, apiKey: KEYS.acme });
  for (const owner of ["", ...OWNERS]) {
    // Every owner's endpoint takes every order event: only the owner decides who gets one.
    for (const [path, events] of [
      [pathOf(owner), ["order.*"]],
      [opsPathOf(owner), ["hookwire.endpoint.disabled", "hookwire.delivery.exhausted"]],
    ] as const) {
      const { subscription, secret } = await acme.register({ url: rcv.url(path), events: [...events], retries: 1, retryDelayMs: 100, ...(owner ? { owner } : {}) });
      expect(subscription.owner).toBe(owner);
      subs.set(path, subscription.id);
      rcv.route(path, { secret, respond: (n) => ({ status: answers.get(path)?.(n) ?? 200 }) });
    }
  }
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await rcv?.close();
});

/** The paths that received the message, each once per delivery attempt. */
function pathsReached(messageId: string): string[] {
  return rcv
    .requests()
    .filter((r) => r.headers["webhook-id"] === messageId)
    .map((r) => r.path)
    .sort();
}

/** Waits until every delivery of the message is finished, and answers them. */
async function finished(messageId: string): Promise<Delivery[]> {
  let last: Delivery[] = [];
  await waitFor(
    async () => {
      last = (await acme.listDeliveries({ messageId })).deliveries;
      return last.length > 0 && last.every((d) => d.status !== "pending");
    },
    { what: () => `deliveries of ${messageId} finished (${JSON.stringify(last.map((d) => d.status))})` },
  );
  return last;
}

describe("a Trigger reaches only its owner's endpoints", () => {
  it("for each owner, for the tenant itself (no owner) and, asked for explicitly, for every owner", async () => {
    for (const owner of ["", ...OWNERS]) {
      const { messageId, deliveries } = await acme.trigger("order.created", { for: owner }, owner ? { owner } : {});
      expect(deliveries).toBe(1);
      const done = await finished(messageId);
      expect(done.map((d) => [d.subscriptionId, d.owner])).toEqual([[subs.get(pathOf(owner)), owner]]);
      expect(pathsReached(messageId)).toEqual([pathOf(owner)]);
      expect(rcv.requests(pathOf(owner)).every((r) => r.verified)).toBe(true);
      const message = await acme.getMessage(messageId);
      expect([message.owner, message.allOwners]).toEqual([owner, false]);
    }
    // An owner with no endpoints gets nothing, and nobody else gets its event.
    const nobody = await acme.trigger("order.created", { for: "dave" }, { owner: "user-dave" });
    expect(nobody.deliveries).toBe(0);
    // An announcement: every owner's endpoint and the tenant's own, once each.
    const all = await acme.trigger("order.created", { for: "everyone" }, { allOwners: true });
    expect(all.deliveries).toBe(4);
    const done = await finished(all.messageId);
    expect(done.map((d) => d.owner).sort()).toEqual(["", ...OWNERS].sort());
    expect(pathsReached(all.messageId)).toEqual(["", ...OWNERS].map(pathOf).sort());
    expect((await acme.getMessage(all.messageId)).allOwners).toBe(true);
    // The other tenant's owner of the same name is another customer altogether.
    const globex = createWebhookManager({ baseUrl: server.baseUrl, apiKey: KEYS.globex });
    expect((await globex.trigger("order.created", {}, { owner: "user-alice" })).deliveries).toBe(0);
  });

  it("through a retry, Redeliver and RecoverDeliveries", async () => {
    const bob = pathOf("user-bob");
    // Bob's endpoint fails its first attempt: the retry goes to Bob's endpoint again, and nowhere else.
    const before = rcv.requests(bob).length;
    answers.set(bob, (n) => (n === before + 1 ? 503 : 200));
    const retried = await acme.trigger("order.paid", { n: 1 }, { owner: "user-bob" });
    const [delivery] = await finished(retried.messageId);
    expect(delivery!.attempts.map((a) => a.statusCode)).toEqual([503, 200]);
    expect(pathsReached(retried.messageId)).toEqual([bob, bob]);
    // Redeliver: a new delivery of the same message, to the same owner's endpoint.
    const again = await acme.redeliver(delivery!.id);
    expect(again.owner).toBe("user-bob");
    await waitFor(() => pathsReached(retried.messageId).length === 3, { what: "the redelivery" });
    expect(pathsReached(retried.messageId)).toEqual([bob, bob, bob]);
    // RecoverDeliveries: Carol's endpoint fails both attempts; recovering redelivers to Carol only.
    const carol = pathOf("user-carol");
    const since = new Date(Date.now() - 1000);
    answers.set(carol, () => 500);
    const failed = await acme.trigger("order.paid", { n: 2 }, { owner: "user-carol" });
    expect((await finished(failed.messageId)).map((d) => d.status)).toEqual(["failed"]);
    answers.set(carol, () => 200);
    const recovered = await acme.recoverDeliveries({ subscriptionId: subs.get(carol)!, since });
    expect(recovered.deliveries.map((d) => d.owner)).toEqual(["user-carol"]);
    await waitFor(() => pathsReached(failed.messageId).length === 3, { what: "the recovery's delivery" });
    expect(pathsReached(failed.messageId)).toEqual([carol, carol, carol]);
    // The failure was announced to Carol's operations endpoint, and to no other owner's.
    await waitFor(() => rcv.requests(opsPathOf("user-carol")).some((r) => r.body.includes(failed.messageId)), { what: "the exhausted event at Carol's" });
    for (const other of ["", "user-alice", "user-bob"]) expect(rcv.requests(opsPathOf(other)).some((r) => r.body.includes(failed.messageId))).toBe(false);
  });

  it("an endpoint disabled by Hookwire is announced to its owner's subscriptions only", async () => {
    const alice = pathOf("user-alice");
    answers.set(alice, () => 410); // Gone: disabled at once
    const gone = await acme.trigger("order.shipped", { n: 3 }, { owner: "user-alice" });
    await finished(gone.messageId);
    expect((await acme.getSubscription(subs.get(alice)!)).disabled).toBe(true);
    const disabledEvent = (path: string) => rcv.requests(path).filter((r) => r.body.includes('"event":"hookwire.endpoint.disabled"') && r.body.includes(subs.get(alice)!));
    await waitFor(() => disabledEvent(opsPathOf("user-alice")).length === 1, { what: "the disabled event at Alice's" });
    expect(disabledEvent(opsPathOf("user-alice")).every((r) => r.verified)).toBe(true);
    for (const other of ["", "user-bob", "user-carol"]) expect(disabledEvent(opsPathOf(other))).toEqual([]);
  });
});

describe("reads by owner", () => {
  it("ListSubscriptions, ListDeliveries and WatchDeliveries filter by owner", async () => {
    const bobs = await acme.listSubscriptions({ owner: "user-bob" });
    expect(bobs.subscriptions.map((s) => s.id).sort()).toEqual([subs.get(pathOf("user-bob")), subs.get(opsPathOf("user-bob"))].sort());
    expect((await acme.listSubscriptions({ pageSize: 100 })).subscriptions).toHaveLength(8);
    // Pages of one owner's.
    const first = await acme.listSubscriptions({ owner: "user-bob", pageSize: 1 });
    const second = await acme.listSubscriptions({ owner: "user-bob", pageSize: 1, pageToken: first.nextPageToken });
    expect([...first.subscriptions, ...second.subscriptions].map((s) => s.owner)).toEqual(["user-bob", "user-bob"]);
    expect(second.nextPageToken).toBe("");
    const deliveries = await acme.listDeliveries({ owner: "user-bob", pageSize: 100 });
    expect(deliveries.deliveries.length).toBeGreaterThan(0);
    expect(new Set(deliveries.deliveries.map((d) => d.owner))).toEqual(new Set(["user-bob"]));

    const stop = new AbortController();
    const seen: Delivery[] = [];
    const watching = (async () => {
      for await (const d of acme.watchDeliveries({ owner: "user-carol", signal: stop.signal })) seen.push(d);
    })();
    // Triggers until the watch is open and has seen Carol's (each round also sends Bob one it must not see).
    await waitFor(
      async () => {
        await acme.trigger("order.watched", {}, { owner: "user-bob" });
        await acme.trigger("order.watched", {}, { owner: "user-carol" });
        return seen.some((d) => d.event === "order.watched");
      },
      { what: "Carol's outcome on the watch", intervalMs: 200 },
    );
    stop.abort();
    await watching;
    expect(new Set(seen.map((d) => d.owner))).toEqual(new Set(["user-carol"]));
  });
});

describe("owners as input", () => {
  it("bad owners, all_owners with an owner, and the per-owner quota are refused, naming the problem", async () => {
    const bad = async (p: Promise<unknown>) => ((await p.catch((e: unknown) => e)) as Error).message;
    expect(await bad(acme.register({ url: rcv.url("/x"), events: ["order.created"], owner: "a".repeat(257) }))).toMatch(/owner: is longer than 256 characters/);
    expect(await bad(acme.register({ url: rcv.url("/x"), events: ["order.created"], owner: "bad\u0007bell" }))).toMatch(/owner: holds the unprintable character U\+0007/);
    expect(await bad(acme.register({ url: rcv.url("/x"), events: ["order.created"], owner: " padded" }))).toMatch(/owner: starts or ends with white space/);
    expect(await bad(acme.trigger("order.created", {}, { owner: "user-alice", allOwners: true }))).toMatch(/all_owners: .*leave owner empty/);
    await expect(acme.listDeliveries({ owner: "x\u202ey" })).rejects.toBeInstanceOf(InvalidArgumentError);
    // An owner of many characters (and of any script) within the limit is taken as it is.
    const wide = `客户-${"é".repeat(250)}`;
    expect((await acme.register({ url: rcv.url("/wide"), owner: wide, events: ["nothing.matches"] })).subscription.owner).toBe(wide);
    // The quota: user-bob has 2; a third is allowed, a fourth refused.
    await acme.register({ url: rcv.url("/bob-3"), owner: "user-bob", events: ["nothing.matches"] });
    const over = await failure(grpcClient(server).register({ url: rcv.url("/bob-4"), owner: "user-bob", events: ["order.created"] }, { headers: bearer(KEYS.acme) }));
    expect(over.code).toBe(Code.ResourceExhausted);
    expect(over.rawMessage).toMatch(/^subscriptions_per_owner: owner "user-bob" has 3 subscriptions and its quota is 3 \(HOOKWIRE_MAX_SUBSCRIPTIONS_PER_OWNER\)/);
  });
});
