// Customer portal sessions on real servers (issue 24 item 1): CreatePortalSession's answers and refusals,
// the theme given back by GetPortalSession, and every kind of token that must open nothing (forged, altered,
// expired, revoked, of a tenant no longer configured), with revocation seen at once by another server
// process sharing the database. What an open session may do is test/e2e/portal-scope.test.ts.
import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PortalColorScheme, PortalThemeSchema, WebhookService, type CreatePortalSessionRequest } from "@hookwire/sdk/proto";
import { bearer, connectClient, failure, grpcClient, KEYS, startServer, uniqueDatabase, type RunningServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

const acme = { headers: bearer(KEYS.acme) };
const globex = { headers: bearer(KEYS.globex) };
const as = (token: string) => ({ headers: bearer(token) });
const TOKEN = /^hwp_[A-Za-z0-9_-]{43}$/;
/** Where the second process says the portal is (never fetched). */
const PUBLIC_URL = "http://127.0.0.1:9";
/** A 1x1 PNG. */
const PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

let database: string;
/** Logs at debug, so that the check that no token is ever logged sees every line. */
let server: RunningServer;
/** A second process on the same database, with HOOKWIRE_PUBLIC_URL. */
let other: RunningServer;
let client: Client<typeof WebhookService>;
let otherClient: Client<typeof WebhookService>;
/** Every token made here: none may appear in the servers' output. */
const tokens: string[] = [];

beforeAll(async () => {
  database = uniqueDatabase("portal");
  // One after the other: two first starts on a fresh database race to record its layout.
  server = await startServer({ database, env: { HOOKWIRE_LOG_LEVEL: "debug" } });
  other = await startServer({ database, env: { HOOKWIRE_PUBLIC_URL: `${PUBLIC_URL}/` } });
  client = grpcClient(server);
  otherClient = grpcClient(other);
});
afterAll(async () => {
  await Promise.all([server?.stop(), other?.stop()]);
});

/** A request's fields, as a call takes them. */
type SessionRequest = Partial<Omit<CreatePortalSessionRequest, "$typeName">>;

async function session(c: Client<typeof WebhookService>, req: SessionRequest, opts = acme) {
  const res = await c.createPortalSession(req, opts);
  tokens.push(res.token);
  return res;
}

/** A call a portal makes, answering whether the token opened it (any other failure is thrown). */
async function opens(c: Client<typeof WebhookService>, token: string): Promise<boolean> {
  try {
    await c.listSubscriptions({}, as(token));
    return true;
  } catch (err) {
    if (ConnectError.from(err).code !== Code.Unauthenticated) throw err;
    return false;
  }
}

describe("CreatePortalSession", () => {
  it("answers a token, the portal's url with the token in its fragment and the expiry: an hour by default, up to a day", async () => {
    const before = Date.now();
    const made = await session(client, { owner: "customer-42" });
    expect(made.token).toMatch(TOKEN);
    // HOOKWIRE_PUBLIC_URL unset: the origin the request came to.
    expect(made.url).toBe(`${server.baseUrl}/portal#token=${made.token}`);
    const expires = timestampMs(made.expiresAt!);
    expect(expires).toBeGreaterThanOrEqual(before + 3600_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000 + 1000);
    // The same over Connect on HTTP/1.1 (the Host header's origin).
    const viaConnect = await session(connectClient(server), { owner: "customer-42", ttlSeconds: 86_400n });
    expect(viaConnect.url).toBe(`${server.baseUrl}/portal#token=${viaConnect.token}`);
    expect(timestampMs(viaConnect.expiresAt!)).toBeGreaterThan(Date.now() + 86_400_000 - 60_000);
    expect(viaConnect.token).not.toBe(made.token);
    // HOOKWIRE_PUBLIC_URL set: its origin.
    const elsewhere = await session(otherClient, { owner: "customer-42", ttlSeconds: 60n });
    expect(elsewhere.url).toBe(`${PUBLIC_URL}/portal#token=${elsewhere.token}`);
    // The session knows its owner and expiry, on either process.
    for (const c of [client, otherClient]) {
      const got = await c.getPortalSession({}, as(made.token));
      expect(got.owner).toBe("customer-42");
      expect(timestampMs(got.expiresAt!)).toBe(expires);
      expect(got.theme).toMatchObject({ accentColor: "", logoUrl: "", colorScheme: PortalColorScheme.UNSPECIFIED, title: "" });
    }
  });

  it("refuses each bad field with INVALID_ARGUMENT naming it", async () => {
    const theme = (fields: object) => create(PortalThemeSchema, fields);
    const cases: Array<[SessionRequest, RegExp]> = [
      [{}, /^owner: is required/],
      [{ owner: " padded" }, /^owner: starts or ends with white space/],
      [{ owner: "x".repeat(257) }, /^owner: is longer than 256 characters/],
      [{ owner: "c", ttlSeconds: -1n }, /^ttl_seconds: -1 is outside 1\.\.86400 seconds/],
      [{ owner: "c", ttlSeconds: 86_401n }, /^ttl_seconds: 86401 is outside 1\.\.86400 seconds/],
      [{ owner: "c", theme: theme({ accentColor: "blue" }) }, /^theme\.accent_color: "blue" is not a colour written "#rrggbb"/],
      [{ owner: "c", theme: theme({ logoUrl: "http://127.0.0.1:9/logo.png" }) }, /^theme\.logo_url: must be an https: URL/],
      [{ owner: "c", theme: theme({ logoUrl: `data:image/png;base64,${"A".repeat(32 * 1024)}` }) }, /^theme\.logo_url: is 32790 bytes, over the limit of 32768 bytes/],
      [{ owner: "c", theme: theme({ logoUrl: "data:text/html;base64,PGgxPg==" }) }, /^theme\.logo_url: a data: URL must be data:image/],
      [{ owner: "c", theme: theme({ title: "t".repeat(101) }) }, /^theme\.title: is longer than 100 characters/],
      [{ owner: "c", theme: theme({ colorScheme: 9 }) }, /^theme\.color_scheme: 9 is not a known colour scheme/],
    ];
    for (const [req, msg] of cases) {
      for (const c of [client, connectClient(server)]) {
        const err = await failure(c.createPortalSession(req, acme));
        expect([Code[err.code], err.rawMessage]).toEqual([Code[Code.InvalidArgument], expect.stringMatching(msg)]);
      }
    }
  });

  it("keeps the theme, which GetPortalSession answers the session (as a page's JSON call reads it)", async () => {
    const theme = { accentColor: "#0A7cff", logoUrl: PNG, colorScheme: PortalColorScheme.DARK, title: "Acme webhooks" };
    const made = await session(client, { owner: "customer-42", theme: create(PortalThemeSchema, theme) });
    expect((await otherClient.getPortalSession({}, as(made.token))).theme).toMatchObject(theme);
    // Connect's JSON over HTTP/1.1, as the portal page calls it.
    const res = await fetch(`${server.baseUrl}/hookwire.v1.WebhookService/GetPortalSession`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${made.token}` },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      owner: "customer-42",
      expiresAt: expect.any(String),
      theme: { accentColor: "#0A7cff", logoUrl: PNG, colorScheme: "PORTAL_COLOR_SCHEME_DARK", title: "Acme webhooks" },
    });
  });

  it("GetPortalSession answers portal sessions only: a tenant's API key is refused", async () => {
    const err = await failure(client.getPortalSession({}, acme));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.rawMessage).toMatch(/^GetPortalSession: answers a portal session's token only/);
  });
});

describe("tokens that open nothing answer UNAUTHENTICATED", () => {
  it("forged, altered in one character, cut short or lengthened: the same answer, naming no tenant", async () => {
    const { token } = await session(client, { owner: "customer-42" });
    const other = (c: string) => (c === "A" ? "B" : "A");
    const at = 20;
    const bad = [
      `hwp_${"x".repeat(43)}`,
      token.slice(0, at) + other(token[at]!) + token.slice(at + 1),
      token.slice(0, -1) + other(token.at(-1)!),
      token.slice(0, -1),
      `${token}A`,
      `hwp_${token.slice(4).toLowerCase() === token.slice(4) ? token.slice(4).toUpperCase() : token.slice(4).toLowerCase()}`,
    ];
    for (const t of bad) {
      for (const c of [client, connectClient(server), otherClient]) {
        const err = await failure(c.listSubscriptions({}, as(t)));
        expect([Code[err.code], err.rawMessage]).toEqual([Code[Code.Unauthenticated], "portal session expired or revoked"]);
      }
    }
    expect(await opens(client, token)).toBe(true);
  });

  it("expired: a session of two seconds opens calls, then none once its time is up", async () => {
    const made = await session(client, { owner: "customer-42", ttlSeconds: 2n });
    const expires = timestampMs(made.expiresAt!);
    expect(await opens(otherClient, made.token)).toBe(true);
    await waitFor(async () => !(await opens(otherClient, made.token)), { what: "the session to expire", intervalMs: 100 });
    expect(Date.now()).toBeGreaterThanOrEqual(expires);
    expect(await opens(client, made.token)).toBe(false);
    const err = await failure(client.getPortalSession({}, as(made.token)));
    expect([err.code, err.rawMessage]).toEqual([Code.Unauthenticated, "portal session expired or revoked"]);
  });

  it("revoked: every session of the owner ends at once, on this process and on another sharing the database; no other owner's", async () => {
    const [r1, r2, s1] = [await session(client, { owner: "customer-r" }), await session(otherClient, { owner: "customer-r" }), await session(client, { owner: "customer-s" })];
    const globexR = await session(client, { owner: "customer-r" }, globex);
    for (const t of [r1, r2, s1, globexR]) for (const c of [client, otherClient]) expect(await opens(c, t.token)).toBe(true);
    // Revoked on one process: the very next call on either is refused.
    expect((await client.revokePortalSessions({ owner: "customer-r" }, acme)).revoked).toBe(2);
    for (const t of [r1, r2]) for (const c of [otherClient, client]) expect(await opens(c, t.token)).toBe(false);
    for (const t of [s1, globexR]) for (const c of [otherClient, client]) expect(await opens(c, t.token)).toBe(true);
    expect((await otherClient.revokePortalSessions({ owner: "customer-r" }, acme)).revoked).toBe(0);
    const err = await failure(client.revokePortalSessions({ owner: "" }, acme));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/^owner: is required/)]);
    // A new session for the owner works again.
    expect(await opens(otherClient, (await session(client, { owner: "customer-r" })).token)).toBe(true);
  });

  it("of a tenant whose API key is no longer configured", async () => {
    const { token } = await session(client, { owner: "customer-42" });
    const globexOnly = await startServer({ database, env: { HOOKWIRE_API_KEYS: `globex:${KEYS.globex}` } });
    try {
      expect(await opens(grpcClient(globexOnly), token)).toBe(false);
    } finally {
      await globexOnly.stop();
    }
    expect(await opens(client, token)).toBe(true);
  });
});

describe("what an operator sees", () => {
  it("sessions created and portal calls refused are counted; no token is ever logged", async () => {
    const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
    const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}"]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1] ?? "NaN");
    expect(value('hookwire_portal_sessions_created_total{tenant="acme"}')).toBeGreaterThanOrEqual(8);
    expect(value('hookwire_portal_sessions_created_total{tenant="globex"}')).toBeGreaterThanOrEqual(1);
    expect(value('hookwire_portal_calls_refused_total{reason="token"}')).toBeGreaterThanOrEqual(12);
    expect(value('hookwire_rpc_requests_total{service="hookwire.v1.WebhookService",method="ListSubscriptions",code="UNAUTHENTICATED"}')).toBeGreaterThanOrEqual(12);
    expect(tokens.length).toBeGreaterThan(8);
    const logged = server.output() + other.output();
    expect(logged).toContain('"level":"debug"');
    for (const t of tokens) expect(logged).not.toContain(t.slice(4));
  });
});
