// Subscription RPCs against the real server and a real FerretDB.
import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { GetSubscriptionResponseSchema } from "@hookwire/sdk/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, connectClient, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";

let server: RunningServer;
let client: ReturnType<typeof grpcClient>;
const acme = { headers: bearer(KEYS.acme) };
const globex = { headers: bearer(KEYS.globex) };

async function codeOf(p: Promise<unknown>): Promise<[Code, string]> {
  try {
    await p;
  } catch (err) {
    const ce = ConnectError.from(err);
    return [ce.code, ce.rawMessage];
  }
  throw new Error("expected the call to fail");
}

beforeAll(async () => {
  // Private URLs stay refused here: that rule is part of what is tested.
  server = await startServer();
  client = grpcClient(server);
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

describe("Register", () => {
  it("creates a subscription and generates a whsec_ secret", async () => {
    const res = await client.register({ url: "http://127.0.0.1:9/hooks", events: ["order.created", "invoice.*"], description: "orders" }, acme);
    expect(res.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const sub = res.subscription!;
    expect(sub.id).toMatch(/^sub_[0-9a-z]+$/);
    expect(sub.url).toBe("http://127.0.0.1:9/hooks");
    expect(sub.events).toEqual(["order.created", "invoice.*"]);
    expect(sub.description).toBe("orders");
    expect(sub.disabled).toBe(false);
    expect(Math.abs(Number(sub.createdAt!.seconds) * 1000 - Date.now())).toBeLessThan(60_000);
  });

  it("keeps a secret the caller supplies", async () => {
    const secret = "whsec_" + Buffer.alloc(32, 7).toString("base64");
    const res = await client.register({ url: "http://127.0.0.1:9/a", events: ["*"], secret }, acme);
    expect(res.secret).toBe(secret);
  });

  it.each([
    [{ url: "", events: ["a"] }, /^url: is required/],
    [{ url: "ftp://127.0.0.1/", events: ["a"] }, /^url: scheme "ftp"/],
    [{ url: "http://127.0.0.1:9/", events: [] }, /^events: must list/],
    [{ url: "http://127.0.0.1:9/", events: ["bad event"] }, /^events\[0\]/],
    [{ url: "http://127.0.0.1:9/", events: ["a"], secret: "hunter2" }, /^secret: must be "whsec_"/],
    [{ url: "http://127.0.0.1:9/", events: ["a"], description: "d".repeat(513) }, /^description: is longer than 512/],
  ])("refuses bad input %#", async (req, msg) => {
    const [code, message] = await codeOf(client.register(req, acme));
    expect(code).toBe(Code.InvalidArgument);
    expect(message).toMatch(msg);
  });

  it("refuses an address the private rule covers and the egress list does not name, at Register and at Update", async () => {
    // Loopback URLs only: this server's HOOKWIRE_EGRESS_ALLOW names 127.0.0.2 alone, so the private rule refuses
    // 127.0.0.1 and ::1 (the IPv6 forms that embed loopback are judged by the unit tests, with nothing registered).
    const narrow = await startServer({ env: { HOOKWIRE_EGRESS_ALLOW: "127.0.0.2/32" } });
    try {
      const c = grpcClient(narrow);
      for (const url of ["http://127.0.0.1:9/x", "http://[::1]:9/x"]) {
        const [code, message] = await codeOf(c.register({ url, events: ["a"] }, acme));
        expect([code, message]).toEqual([Code.InvalidArgument, expect.stringMatching(/^url: host "(127\.0\.0\.1|::1)" is a loopback, private or link-local address/)]);
      }
      const { subscription } = await c.register({ url: "http://127.0.0.2:9/named", events: ["a"] }, acme);
      const [code, message] = await codeOf(c.updateSubscription({ id: subscription!.id, url: "http://127.0.0.1:9/x" }, acme));
      expect([code, message]).toEqual([Code.InvalidArgument, expect.stringMatching(/^url: host "127\.0\.0\.1" is a loopback/)]);
      expect((await c.getSubscription({ id: subscription!.id }, acme)).subscription!.url).toBe("http://127.0.0.2:9/named");
    } finally {
      await narrow.stop();
    }
  });
});

describe("Get, List, Update, Delete", () => {
  it("gets a subscription without its secret", async () => {
    const { subscription } = await client.register({ url: "http://127.0.0.1:9/get", events: ["a.b"] }, acme);
    const got = await client.getSubscription({ id: subscription!.id }, acme);
    expect(got.subscription).toEqual(subscription);
    expect(JSON.stringify(toJson(GetSubscriptionResponseSchema, got))).not.toContain("whsec_");
  });

  it("pages through the tenant's subscriptions in creation order", async () => {
    const fresh = await startServer(); // its own database, so the count is exact
    try {
      const c = connectClient(fresh);
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push((await c.register({ url: `http://127.0.0.1:9/${i}`, events: ["x"] }, acme)).subscription!.id);
      }
      await c.register({ url: "http://127.0.0.1:9/other", events: ["x"] }, globex);
      const seen: string[] = [];
      let token = "";
      let pages = 0;
      do {
        const page = await c.listSubscriptions({ pageSize: 3, pageToken: token }, acme);
        expect(page.subscriptions.length).toBeLessThanOrEqual(3);
        seen.push(...page.subscriptions.map((s) => s.id));
        token = page.nextPageToken;
        pages++;
      } while (token !== "");
      expect(seen).toEqual(ids);
      expect(pages).toBe(3);
      const all = await c.listSubscriptions({}, acme);
      expect(all.subscriptions).toHaveLength(7);
      expect(all.nextPageToken).toBe("");
      const [code, msg] = await codeOf(c.listSubscriptions({ pageToken: "garbage!" }, acme));
      expect([code, msg]).toEqual([Code.InvalidArgument, "page_token: is not a token this list returned"]);
      expect((await codeOf(c.listSubscriptions({ pageSize: -1 }, acme)))[0]).toBe(Code.InvalidArgument);
    } finally {
      await fresh.stop();
    }
  });

  it("updates only the fields that are set", async () => {
    const { subscription } = await client.register({ url: "http://127.0.0.1:9/u", events: ["a"], description: "before" }, acme);
    const id = subscription!.id;
    const u1 = await client.updateSubscription({ id, events: ["b.*"] }, acme);
    expect(u1.subscription).toMatchObject({ url: "http://127.0.0.1:9/u", events: ["b.*"], description: "before", disabled: false });
    const u2 = await client.updateSubscription({ id, url: "http://127.0.0.2:9/v", description: "", disabled: true }, acme);
    expect(u2.subscription).toMatchObject({ url: "http://127.0.0.2:9/v", events: ["b.*"], description: "", disabled: true });
    expect(Number(u2.subscription!.updatedAt!.nanos) + Number(u2.subscription!.updatedAt!.seconds) * 1e9).toBeGreaterThanOrEqual(
      Number(subscription!.updatedAt!.nanos) + Number(subscription!.updatedAt!.seconds) * 1e9,
    );
    const [code, msg] = await codeOf(client.updateSubscription({ id, url: "ftp://127.0.0.1/" }, acme));
    expect(code).toBe(Code.InvalidArgument);
    expect(msg).toMatch(/^url: /);
    expect((await client.getSubscription({ id }, acme)).subscription!.url).toBe("http://127.0.0.2:9/v");
  });

  it("deletes, after which the subscription is gone", async () => {
    const { subscription } = await client.register({ url: "http://127.0.0.1:9/d", events: ["a"] }, acme);
    const id = subscription!.id;
    await client.deleteSubscription({ id }, acme);
    expect((await codeOf(client.getSubscription({ id }, acme)))[0]).toBe(Code.NotFound);
    expect((await codeOf(client.deleteSubscription({ id }, acme)))[0]).toBe(Code.NotFound);
  });

  it("answers NOT_FOUND for unknown ids and INVALID_ARGUMENT for malformed ones", async () => {
    expect(await codeOf(client.getSubscription({ id: "sub_00000000000000000000000000000" }, acme))).toEqual([
      Code.NotFound,
      'id: subscription "sub_00000000000000000000000000000" not found',
    ]);
    expect(await codeOf(client.getSubscription({ id: "" }, acme))).toEqual([Code.InvalidArgument, "id: is required"]);
    expect((await codeOf(client.getSubscription({ id: "msg_abc" }, acme)))[0]).toBe(Code.InvalidArgument);
  });
});

describe("extra headers and rate limit", () => {
  const MASK = "********";

  it("answers header values on GetSubscription alone; Register, List, Update and RotateSecret mask them", async () => {
    const headers = { Authorization: "Bearer cust-token", "X-Tenant": "t-1" };
    const reg = await client.register({ url: "http://127.0.0.1:9/h", events: ["a"], owner: "user-h", headers, rateLimitPerSecond: 25 }, acme);
    const id = reg.subscription!.id;
    expect(reg.subscription).toMatchObject({ headers: { authorization: MASK, "x-tenant": MASK }, rateLimitPerSecond: 25 });
    expect((await client.getSubscription({ id }, acme)).subscription).toMatchObject({ headers: { authorization: "Bearer cust-token", "x-tenant": "t-1" }, rateLimitPerSecond: 25 });
    const listed = (await client.listSubscriptions({ owner: "user-h" }, acme)).subscriptions.find((s) => s.id === id);
    expect(listed).toMatchObject({ headers: { authorization: MASK, "x-tenant": MASK }, rateLimitPerSecond: 25 });
    expect((await client.updateSubscription({ id, description: "x" }, acme)).subscription!.headers).toEqual({ authorization: MASK, "x-tenant": MASK });
    expect((await client.rotateSecret({ id }, acme)).subscription!.headers).toEqual({ authorization: MASK, "x-tenant": MASK });
    // The mask cannot be sent back as a value by mistake.
    const [code, message] = await codeOf(client.updateSubscription({ id, headers: { authorization: MASK } }, acme));
    expect([code, message]).toEqual([Code.InvalidArgument, `headers["authorization"]: "${MASK}" is the mask Hookwire answers in place of a value; send the value itself`]);
  });

  it("Update replaces the whole set when headers is not empty, keeps it when empty, clears it with clear_headers; sets or lifts the limit", async () => {
    const c = connectClient(server); // Connect's JSON: the shape a plain HTTP caller sends
    const { subscription } = await c.register({ url: "http://127.0.0.1:9/u2", events: ["a"], headers: { "x-a": "1", "x-b": "2" } }, acme);
    const id = subscription!.id;
    const plain = async () => (await c.getSubscription({ id }, acme)).subscription!;
    await c.updateSubscription({ id, description: "kept" }, acme);
    expect((await plain()).headers).toEqual({ "x-a": "1", "x-b": "2" });
    await c.updateSubscription({ id, headers: { "X-C": "3" } }, acme);
    expect((await plain()).headers).toEqual({ "x-c": "3" });
    const [code, message] = await codeOf(c.updateSubscription({ id, headers: { "x-d": "4" }, clearHeaders: true }, acme));
    expect([code, message]).toEqual([Code.InvalidArgument, "clear_headers: cannot be combined with headers (headers alone replaces them all)"]);
    await c.updateSubscription({ id, clearHeaders: true }, acme);
    expect((await plain()).headers).toEqual({});
    expect((await plain()).rateLimitPerSecond).toBe(0);
    await c.updateSubscription({ id, rateLimitPerSecond: 10_000 }, acme);
    expect((await plain()).rateLimitPerSecond).toBe(10_000);
    await c.updateSubscription({ id, description: "limit kept" }, acme);
    expect((await plain()).rateLimitPerSecond).toBe(10_000);
    await c.updateSubscription({ id, rateLimitPerSecond: 0 }, acme);
    expect((await plain()).rateLimitPerSecond).toBe(0);
  });

  it.each([
    [{ headers: { "Webhook-Signature": "v1,forged" } }, 'headers["Webhook-Signature"]: is set by Hookwire on every delivery and cannot be replaced'],
    [{ headers: { "x-hub-signature-256": "sha256=00" } }, 'headers["x-hub-signature-256"]: is set by Hookwire on every delivery and cannot be replaced'],
    [{ headers: { Host: "elsewhere" } }, 'headers["Host"]: is set by Hookwire on every delivery and cannot be replaced'],
    [{ headers: { "Transfer-Encoding": "chunked" } }, 'headers["Transfer-Encoding"]: is a hop-by-hop or framing header, which the connection manages'],
    [{ headers: { "x-token": "a\r\nx-injected: 1" } }, 'headers["x-token"]: the value holds a line break (CR or LF)'],
    [{ headers: { "bad name": "v" } }, /^headers\["bad name"\]: is not a header name/],
    [{ headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-${i}`, "v"])) }, "headers: 21 headers; at most 20"],
    [{ headers: { "x-big": "v".repeat(8192) } }, "headers: names and values add up to 8197 characters; at most 8192"],
    [{ rateLimitPerSecond: 10_001 }, "rate_limit_per_second: 10001 is outside 0..10000 (attempts a second; 0 for no limit)"],
    [{ rateLimitPerSecond: -1 }, "rate_limit_per_second: -1 is outside 0..10000 (attempts a second; 0 for no limit)"],
  ])("refuses bad settings at Register and at Update, naming the field %#", async (bad, message) => {
    const expected = (m: string) => (typeof message === "string" ? expect(m).toBe(message) : expect(m).toMatch(message));
    const [code, msg] = await codeOf(client.register({ url: "http://127.0.0.1:9/bad", events: ["a"], ...bad }, acme));
    expect(code).toBe(Code.InvalidArgument);
    expected(msg);
    const { subscription } = await client.register({ url: "http://127.0.0.1:9/ok", events: ["a"] }, acme);
    const [updateCode, updateMsg] = await codeOf(client.updateSubscription({ id: subscription!.id, ...bad }, acme));
    expect(updateCode).toBe(Code.InvalidArgument);
    expected(updateMsg);
  });
});

describe("authentication and tenants", () => {
  it("refuses a missing, malformed or unknown key", async () => {
    expect(await codeOf(client.listSubscriptions({}))).toEqual([Code.Unauthenticated, 'missing "authorization: Bearer <api key>" header']);
    expect((await codeOf(client.listSubscriptions({}, { headers: { authorization: KEYS.acme } })))[0]).toBe(Code.Unauthenticated);
    expect(await codeOf(client.listSubscriptions({}, { headers: bearer("nope") }))).toEqual([Code.Unauthenticated, "unknown API key"]);
    expect((await codeOf(client.sign({ body: new Uint8Array([1]), secret: "s" }, { headers: bearer("nope") })))[0]).toBe(Code.Unauthenticated);
  });

  it("keeps each tenant's subscriptions to itself", async () => {
    const { subscription } = await client.register({ url: "http://127.0.0.1:9/mine", events: ["a"] }, acme);
    const id = subscription!.id;
    expect((await codeOf(client.getSubscription({ id }, globex)))[0]).toBe(Code.NotFound);
    expect((await codeOf(client.updateSubscription({ id, description: "stolen" }, globex)))[0]).toBe(Code.NotFound);
    expect((await codeOf(client.deleteSubscription({ id }, globex)))[0]).toBe(Code.NotFound);
    const theirs = await client.listSubscriptions({ pageSize: 100 }, globex);
    expect(theirs.subscriptions.map((s) => s.id)).not.toContain(id);
    expect((await client.getSubscription({ id }, acme)).subscription!.description).toBe("");
  });
});
