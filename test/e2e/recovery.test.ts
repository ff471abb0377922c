// A tenant's failed deliveries across subscriptions, and RecoverDeliveries, against the real server on
// both store layouts, with real receivers on 127.0.0.1 and the SDK as users call it.
import { Code } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterEach, describe, expect, it } from "vitest";
import { createWebhookManager, InvalidArgumentError, type Delivery, type HookwireManager } from "@hookwire/sdk";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, failure, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
});

interface Setup {
  server: RunningServer;
  rcv: Receiver;
  acme: HookwireManager;
  globex: HookwireManager;
  /** Whether the receiver's endpoints answer 200 (else 500). */
  up: { value: boolean };
}

async function setup(layout: string): Promise<Setup> {
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_POLL_MS: "100", HOOKWIRE_STORE: layout } });
  cleanup.push(() => server.stop());
  const manager = (apiKey: string) => createWebhookManager({ baseUrl: server.baseUrl, apiKey });
  return { server, rcv, acme: manager(KEYS.acme), globex: manager(KEYS.globex), up: { value: false } };
}

/** A subscription that fails at once (no retries) while `up` is false, its requests checked against its secret. */
async function endpoint(s: Setup, hw: HookwireManager, path: string, events: string[]): Promise<string> {
  const { subscription, secret } = await hw.register({ url: s.rcv.url(path), events, retries: 0 });
  s.rcv.route(path, { secret, respond: () => ({ status: s.up.value ? 200 : 500 }) });
  return subscription.id;
}

/** Triggers and waits until the message's deliveries are all finished. */
async function triggered(hw: HookwireManager, event: string, n: number): Promise<string> {
  const { messageId } = await hw.trigger(event, { n });
  await waitFor(
    async () => {
      const { deliveries } = await hw.listDeliveries({ messageId });
      return deliveries.length > 0 && deliveries.every((d) => d.status !== "pending");
    },
    { timeoutMs: 15_000, what: `deliveries of ${messageId} ended` },
  );
  return messageId;
}

async function allPages(list: (pageToken: string) => Promise<{ deliveries: Delivery[]; nextPageToken: string }>): Promise<Delivery[][]> {
  const pages: Delivery[][] = [];
  let token = "";
  do {
    const page = await list(token);
    pages.push(page.deliveries);
    token = page.nextPageToken;
  } while (token !== "");
  return pages;
}

const webhookIds = (rcv: Receiver, path: string, from = 0) => rcv.requests(path).slice(from).map((r) => String(r.headers["webhook-id"]));

describe.each(["ferretdb", "mongodb"])("the %s layout", (layout) => {
  it("lists a tenant's failed deliveries across subscriptions, oldest first, page by page, pending ones too, no other tenant's", async () => {
    const s = await setup(layout);
    const subA = await endpoint(s, s.acme, "/a", ["list.*"]);
    const subB = await endpoint(s, s.acme, "/b", ["list.*"]);
    const subG = await endpoint(s, s.globex, "/g", ["list.*"]);
    s.up.value = true;
    await triggered(s.acme, "list.ok", 0);
    s.up.value = false;
    for (let i = 1; i <= 3; i++) await triggered(s.acme, "list.bad", i);
    await triggered(s.globex, "list.bad", 9);

    const pages = await allPages((pageToken) => s.acme.listDeliveries({ status: "failed", pageSize: 4, pageToken }));
    expect(pages.map((p) => p.length)).toEqual([4, 2]);
    const failed = pages.flat();
    expect(failed.every((d) => d.status === "failed")).toBe(true);
    expect(new Set(failed.map((d) => d.subscriptionId))).toEqual(new Set([subA, subB]));
    expect(failed.map((d) => d.id)).toEqual(failed.map((d) => d.id).sort());
    // The same deliveries as the per-subscription lists hold together.
    const bySub = [
      ...(await s.acme.listDeliveries({ subscriptionId: subA, status: "failed" })).deliveries,
      ...(await s.acme.listDeliveries({ subscriptionId: subB, status: "failed" })).deliveries,
    ];
    expect(failed.map((d) => d.id)).toEqual(bySub.map((d) => d.id).sort());
    // Without a status: the delivered ones too.
    const all = (await s.acme.listDeliveries({ pageSize: 100 })).deliveries;
    expect(all.map((d) => d.status).sort()).toEqual(["delivered", "delivered", ...Array(6).fill("failed")]);
    // The other tenant sees only its own.
    const theirs = (await s.globex.listDeliveries({ status: "failed" })).deliveries;
    expect(theirs.map((d) => d.subscriptionId)).toEqual([subG]);

    // A delivery still in flight is listed as pending across the tenant (it lives apart from finished ones).
    const subSlow = (await s.acme.register({ url: s.rcv.url("/slow"), events: ["slow.*"], timeoutMs: 10_000 })).subscription.id;
    s.rcv.route("/slow", { respond: () => ({ status: 200, delayMs: 4000 }) });
    const { messageId } = await s.acme.trigger("slow.one", {});
    const pending = (await s.acme.listDeliveries({ status: "pending" })).deliveries;
    expect(pending.map((d) => [d.messageId, d.subscriptionId])).toEqual([[messageId, subSlow]]);
    expect((await s.acme.listDeliveries({ status: "failed", pageSize: 100 })).deliveries.map((d) => d.id)).toEqual(failed.map((d) => d.id));
  });

  it("recovers a subscription's failed deliveries since a time: bounded, resumable to the end, each once however often repeated", async () => {
    const s = await setup(layout);
    const subA = await endpoint(s, s.acme, "/ra", ["rec.*"]);
    const subB = await endpoint(s, s.acme, "/rb", ["rec.*"]);
    for (let i = 0; i < 2; i++) await triggered(s.acme, "rec.old", i);
    // Sleeps: the clock moves on, so that since lies strictly after the old messages and before the new ones.
    await sleep(20);
    const since = new Date();
    await sleep(20);
    s.up.value = true;
    const deliveredMsg = await triggered(s.acme, "rec.ok", 0);
    s.up.value = false;
    const recent: string[] = [];
    for (let i = 0; i < 5; i++) recent.push(await triggered(s.acme, "rec.new", i));
    const failedSinceOnA = (await s.acme.listDeliveries({ subscriptionId: subA, status: "failed" })).deliveries.filter((d) => recent.includes(d.messageId));
    expect(failedSinceOnA).toHaveLength(5);

    s.up.value = true;
    const seenA = s.rcv.requests("/ra").length;
    const seenB = s.rcv.requests("/rb").length;
    const tokens: string[] = [];
    const pages = await allPages(async (pageToken) => {
      const page = await s.acme.recoverDeliveries({ subscriptionId: subA, since, limit: 2, pageToken });
      tokens.push(page.nextPageToken);
      return page;
    });
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.every((p) => p.length <= 2)).toBe(true);
    const made = pages.flat();
    // Only A's, only failed, only since: each of those once.
    expect(made.map((d) => d.redeliveryOf).sort()).toEqual(failedSinceOnA.map((d) => d.id).sort());
    expect(made.every((d) => d.subscriptionId === subA && d.status === "pending")).toBe(true);
    expect(made.map((d) => d.messageId).sort()).toEqual([...recent].sort());

    await s.rcv.waitFor(() => new Set(webhookIds(s.rcv, "/ra", seenA)).size >= recent.length);
    // Recovered again, from the start and from a page's token (a caller that lost an answer): nothing new.
    expect(await s.acme.recoverDeliveries({ subscriptionId: subA, since, limit: 1000 })).toEqual({ deliveries: [], nextPageToken: "" });
    expect((await s.acme.recoverDeliveries({ subscriptionId: subA, since, limit: 2, pageToken: tokens[0]! })).deliveries).toEqual([]);
    // The redeliveries are recorded as delivered (the receiver had them a moment before) ...
    const delivered = async () => (await s.acme.listDeliveries({ subscriptionId: subA, status: "delivered", pageSize: 100 })).deliveries.filter((d) => d.redeliveryOf);
    await waitFor(async () => (await delivered()).length >= made.length, { timeoutMs: 10_000, what: `${made.length} redeliveries recorded as delivered` });
    // ... and a sleep: none is sent twice, and nothing else is sent, in the second after.
    await sleep(1000);
    expect(webhookIds(s.rcv, "/ra", seenA).sort()).toEqual([...recent].sort());
    expect(s.rcv.requests("/ra").slice(seenA).every((r) => r.verified)).toBe(true);
    expect(s.rcv.requests("/rb").length).toBe(seenB);
    expect(webhookIds(s.rcv, "/ra", seenA)).not.toContain(deliveredMsg);
    // The redeliveries are in the log, delivered, naming what they redelivered.
    const redelivered = await delivered();
    expect(redelivered.map((d) => d.id).sort()).toEqual(made.map((d) => d.id).sort());

    // A token belongs to its subscription's recovery.
    const err: unknown = await s.acme.recoverDeliveries({ subscriptionId: subB, since, pageToken: tokens[0]! }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe("page_token");
  });

  it("refuses bad input by field, and another tenant's subscription as not found", async () => {
    const s = await setup(layout);
    const sub = await endpoint(s, s.acme, "/e", ["err.*"]);
    const client = grpcClient(s.server);
    const acme = { headers: bearer(KEYS.acme) };
    const since = timestampFromDate(new Date(Date.now() - 60_000));
    const refused = async (req: Parameters<typeof client.recoverDeliveries>[0], field: string, headers = acme) => {
      const err = await failure(client.recoverDeliveries(req, headers));
      expect([err.code, err.rawMessage.split(":")[0]]).toEqual([Code.InvalidArgument, field]);
    };
    await refused({ since }, "subscription_id");
    await refused({ subscriptionId: "nope", since }, "subscription_id");
    await refused({ subscriptionId: sub }, "since");
    await refused({ subscriptionId: sub, since: timestampFromDate(new Date(Date.now() + 60_000)) }, "since");
    await refused({ subscriptionId: sub, since, limit: 1001 }, "limit");
    await refused({ subscriptionId: sub, since, limit: -1 }, "limit");
    await refused({ subscriptionId: sub, since, pageToken: "not-a-token" }, "page_token");
    // A ListDeliveries token is not a recovery's.
    await refused({ subscriptionId: sub, since, pageToken: Buffer.from("dlv_000000000abc").toString("base64url") }, "page_token");
    const other = await failure(client.recoverDeliveries({ subscriptionId: sub, since }, { headers: bearer(KEYS.globex) }));
    expect(other.code).toBe(Code.NotFound);
    expect(other.rawMessage).toMatch(/^subscription_id: /);
    expect((await failure(client.recoverDeliveries({ subscriptionId: "sub_000000000000000000000000000000", since }, acme))).code).toBe(Code.NotFound);
    // Nothing failed: an empty answer, done.
    expect(await s.acme.recoverDeliveries({ subscriptionId: sub, since: new Date(0) })).toEqual({ deliveries: [], nextPageToken: "" });
    // ListDeliveries takes at most one of its ids.
    const both = await failure(client.listDeliveries({ messageId: "msg_1", subscriptionId: sub }, acme));
    expect([both.code, both.rawMessage.split(":")[0]]).toEqual([Code.InvalidArgument, "message_id"]);
  });
});
