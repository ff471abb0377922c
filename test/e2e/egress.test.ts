// HOOKWIRE_EGRESS_ALLOW: the parsing of its entries, how it combines with the private rule (pure: the
// documentation addresses 192.0.2.0/24 and 203.0.113.0/24 are judged here, never connected to), the sender's
// connect-time check against a real receiver on loopback, and a real server that delivers to loopback only
// where the list says so.
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryStatus } from "@hookwire/sdk/proto";
import { ConfigError, loadConfig } from "../../server/config.js";
import { addressRefusal, parseEgressAllow } from "../../server/domain/egress.js";
import { HttpSender } from "../../server/engine/http-sender.js";
import { validateUrl } from "../../server/domain/validation.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, failure, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

let rcv: Receiver;
beforeAll(async () => {
  rcv = await startReceiver();
});
afterAll(async () => {
  await rcv?.close();
});

const list = (raw: string) => parseEgressAllow(raw)!;
/** The field error validateUrl throws, or "ok". */
const judged = (url: string, allowPrivate: boolean, raw: string) => {
  try {
    validateUrl(url, allowPrivate, "url", list(raw));
    return "ok";
  } catch (err) {
    return (err as Error).message;
  }
};

describe("HOOKWIRE_EGRESS_ALLOW's entries", () => {
  it("takes networks, single addresses, host names and *.suffix names; unset or empty is no list", () => {
    expect(parseEgressAllow("")).toBeUndefined();
    expect(parseEgressAllow("  ")).toBeUndefined();
    const l = list(" 203.0.113.0/24, 2001:db8::/32 ,192.0.2.7,::1, API.example.org., *.hooks.example.net");
    expect(l.hasNetworks).toBe(true);
    expect([...l.hosts]).toEqual(["api.example.org"]);
    expect(l.suffixes).toEqual([".hooks.example.net"]);
    expect(l.networks.check("203.0.113.200", "ipv4")).toBe(true);
    expect(l.networks.check("192.0.2.7", "ipv4")).toBe(true);
    expect(l.networks.check("192.0.2.8", "ipv4")).toBe(false);
    // Only ::1 of these lies wholly inside a refused range (2001:db8::/32 is refused too: documentation).
    expect(l.exceptions.check("::1", "ipv6")).toBe(true);
    expect(l.exceptions.check("203.0.113.1", "ipv4")).toBe(false);
  });

  it.each([
    ["10.0.0.1/8", /"10\.0\.0\.1\/8" has bits set after its \/8 prefix/],
    ["10.0.0.0/33", /"10\.0\.0\.0\/33": the prefix length must be 0 to 32/],
    ["::/129", /the prefix length must be 0 to 128/],
    ["10.0.0.0/x", /the prefix length must be 0 to 32/],
    ["127.0.0.0/8,,::1", /has an empty entry/],
    ["*", /"\*" is not a network .*, an IP address, or a host name/],
    ["exa mple.org", /"exa mple\.org" is not a network/],
    ["api.example.org/24", /is not a network/],
    ["http://api.example.org", /is not a network/],
  ])("refuses %s at start, naming the variable", (raw, message) => {
    let err: unknown;
    try {
      loadConfig({ HOOKWIRE_EGRESS_ALLOW: raw });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^HOOKWIRE_EGRESS_ALLOW: /);
    expect((err as Error).message).toMatch(message);
  });
});

describe("with the private rule", () => {
  it("a list of loopback networks alone allows loopback, and nothing else", () => {
    const l = list("127.0.0.0/8,::1/128");
    expect(addressRefusal("127.0.0.1", false, false, l)).toBeUndefined();
    expect(addressRefusal("127.9.9.9", false, false, l)).toBeUndefined();
    expect(addressRefusal("::1", false, false, l)).toBeUndefined();
    expect(addressRefusal("::ffff:127.0.0.1", false, false, l)).toBeUndefined(); // IPv4-mapped: the same address
    expect(addressRefusal("10.0.0.1", false, false, l)).toBe("private");
    expect(addressRefusal("64:ff9b::7f00:1", false, false, l)).toBe("private"); // NAT64 of loopback: not named
    expect(addressRefusal("203.0.113.5", false, false, l)).toBe("outside");
    expect(addressRefusal("203.0.113.5", true, false, l)).toBeUndefined(); // reached through a listed host name
  });

  it("a broad network does not open the private ranges it overlaps; a private network named inside it does", () => {
    const l = list("0.0.0.0/0,::/0,10.1.2.0/24");
    expect(addressRefusal("203.0.113.5", false, false, l)).toBeUndefined();
    expect(addressRefusal("2001:4860:4860::8888", false, false, l)).toBeUndefined();
    expect(addressRefusal("169.254.169.254", false, false, l)).toBe("private");
    expect(addressRefusal("127.0.0.1", false, false, l)).toBe("private");
    expect(addressRefusal("10.1.2.3", false, false, l)).toBeUndefined();
    expect(addressRefusal("10.1.3.1", false, false, l)).toBe("private");
  });

  it("HOOKWIRE_ALLOW_PRIVATE_URLS lifts the private rule but not the list", () => {
    const l = list("203.0.113.0/24,127.0.0.1");
    expect(addressRefusal("10.0.0.1", false, true, l)).toBe("outside");
    expect(addressRefusal("127.0.0.2", false, true, l)).toBe("outside");
    expect(addressRefusal("127.0.0.1", false, true, l)).toBeUndefined();
    expect(addressRefusal("10.0.0.1", true, true, l)).toBeUndefined(); // a listed name may resolve there
    expect(addressRefusal("10.0.0.1", true, false, l)).toBe("private"); // but names never pass the private rule
    expect(addressRefusal("10.0.0.1", false, true, undefined)).toBeUndefined();
    expect(addressRefusal("10.0.0.1", false, false, undefined)).toBe("private");
  });

  it("validateUrl refuses what can be decided before connecting, naming url", () => {
    expect(judged("http://127.0.0.1:9/h", false, "127.0.0.0/8")).toBe("ok");
    expect(judged("http://[::1]:9/h", false, "127.0.0.0/8")).toBe(
      'url: host "::1" is a loopback, private or link-local address (set HOOKWIRE_ALLOW_PRIVATE_URLS=true, or name its network in HOOKWIRE_EGRESS_ALLOW, to allow)',
    );
    expect(judged("https://203.0.113.5/h", false, "127.0.0.0/8")).toBe('url: host "203.0.113.5" is outside the networks and hosts this server delivers to (HOOKWIRE_EGRESS_ALLOW)');
    // A name: decided at connect time while the list has networks its addresses could fall in.
    expect(judged("https://anything.example.org/h", false, "203.0.113.0/24")).toBe("ok");
    // Only host names in the list: a name that matches none is refused at once.
    const hosts = "api.example.org,*.hooks.example.net";
    expect(judged("https://API.example.org./h", false, hosts)).toBe("ok");
    expect(judged("https://a.b.hooks.example.net/h", false, hosts)).toBe("ok");
    expect(judged("https://hooks.example.net/h", false, hosts)).toMatch(/^url: host "hooks\.example\.net" is outside/);
    expect(judged("https://evil-api.example.org/h", false, hosts)).toMatch(/^url: host "evil-api\.example\.org" is outside/);
    expect(judged("https://203.0.113.5/h", false, hosts)).toMatch(/^url: host "203\.0\.113\.5" is outside/);
    // localhost and *.internal: refused outright unless some private network is named (or private URLs allowed).
    expect(judged("http://localhost:9/h", false, "203.0.113.0/24")).toMatch(/^url: host "localhost" is a loopback/);
    expect(judged("http://localhost:9/h", false, "127.0.0.0/8")).toBe("ok");
    expect(judged("http://localhost:9/h", true, "203.0.113.0/24")).toBe("ok");
  });
});

describe("the sender at connect time", () => {
  const port = () => new URL(rcv.url("/")).port;

  it("delivers to a loopback address the list names, without HOOKWIRE_ALLOW_PRIVATE_URLS", async () => {
    const sender = new HttpSender({ allowPrivateUrls: false, egressAllow: list("127.0.0.1/32"), connectionsPerOrigin: 1, userAgent: "test" });
    try {
      expect((await sender.send(`http://127.0.0.1:${port()}/named`, {}, "{}", 5000)).statusCode).toBe(200);
      expect((await sender.send(`http://localhost:${port()}/named`, {}, "{}", 5000)).statusCode).toBe(200);
      expect(rcv.requests("/named")).toHaveLength(2);
    } finally {
      await sender.close();
    }
  });

  it("refuses a literal or a name outside the list, the name without what it resolved to", async () => {
    const sender = new HttpSender({ allowPrivateUrls: true, egressAllow: list("127.0.0.2/32"), connectionsPerOrigin: 1, userAgent: "test" });
    try {
      const literal = await sender.send(`http://127.0.0.1:${port()}/outside`, {}, "{}", 5000);
      expect(literal).toMatchObject({ statusCode: 0, error: "127.0.0.1 is outside HOOKWIRE_EGRESS_ALLOW; refused" });
      const named = await sender.send(`http://localhost:${port()}/outside`, {}, "{}", 5000);
      expect(named.statusCode).toBe(0);
      expect(named.error).toMatch(/localhost resolves to an address outside HOOKWIRE_EGRESS_ALLOW; refused$/);
      expect(named.error).not.toMatch(/127\.0\.0\.1|::1/);
      expect(rcv.requests("/outside")).toHaveLength(0);
    } finally {
      await sender.close();
    }
  });

  it("a listed host name is reached wherever it resolves, but a private address still needs the private rule lifted", async () => {
    const open = new HttpSender({ allowPrivateUrls: true, egressAllow: list("localhost"), connectionsPerOrigin: 1, userAgent: "test" });
    const closed = new HttpSender({ allowPrivateUrls: false, egressAllow: list("localhost"), connectionsPerOrigin: 1, userAgent: "test" });
    try {
      expect((await open.send(`http://localhost:${port()}/by-name`, {}, "{}", 5000)).statusCode).toBe(200);
      expect((await open.send(`http://127.0.0.1:${port()}/by-name`, {}, "{}", 5000)).error).toBe("127.0.0.1 is outside HOOKWIRE_EGRESS_ALLOW; refused");
      const refused = await closed.send(`http://localhost:${port()}/by-name`, {}, "{}", 5000);
      expect(refused.error).toMatch(/localhost resolves to a loopback, private or link-local address; refused$/);
      expect(rcv.requests("/by-name")).toHaveLength(1);
    } finally {
      await open.close();
      await closed.close();
    }
  });
});

describe("a real server with HOOKWIRE_EGRESS_ALLOW=127.0.0.2/32", () => {
  let server: RunningServer;
  const acme = { headers: bearer(KEYS.acme) };
  beforeAll(async () => {
    server = await startServer({ env: { HOOKWIRE_EGRESS_ALLOW: "127.0.0.2/32", HOOKWIRE_POLL_MS: "100" } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("refuses other loopback addresses at Register, Update and Send with INVALID_ARGUMENT naming url", async () => {
    const client = grpcClient(server);
    const reg = await failure(client.register({ url: `http://127.0.0.1:${new URL(rcv.url("/")).port}/r`, events: ["*"] }, acme));
    expect(reg.code).toBe(Code.InvalidArgument);
    expect(reg.rawMessage).toMatch(/^url: host "127\.0\.0\.1" is a loopback, private or link-local address \(set HOOKWIRE_ALLOW_PRIVATE_URLS=true, or name its network in HOOKWIRE_EGRESS_ALLOW/);
    const { subscription } = await client.register({ url: "http://127.0.0.2:9/listed", events: ["never.sent"] }, acme);
    const upd = await failure(client.updateSubscription({ id: subscription!.id, url: "http://127.0.0.3:9/u" }, acme));
    expect(upd.code).toBe(Code.InvalidArgument);
    expect(upd.rawMessage).toMatch(/^url: host "127\.0\.0\.3"/);
    const send = await failure(client.send({ url: "http://[::1]:9/s", payload: { event: "a.b" } }, acme));
    expect(send.code).toBe(Code.InvalidArgument);
    expect(send.rawMessage).toMatch(/^url: host "::1"/);
  });

  it("a name that resolves outside the list fails at connect time, and its error does not say where it resolved", async () => {
    const client = grpcClient(server);
    const path = "/oracle";
    // localhost passes validation (the list names a private network it might resolve into) and resolves to 127.0.0.1.
    await client.register({ url: `http://localhost:${new URL(rcv.url("/")).port}${path}`, events: ["egress.oracle"], retries: 0 }, acme);
    const { messageId } = await client.trigger({ event: "egress.oracle" }, acme);
    const delivery = await waitFor(
      async () => {
        const d = (await client.listDeliveries({ messageId }, acme)).deliveries[0];
        return d && d.status !== DeliveryStatus.PENDING ? d : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: "the delivery ended" },
    );
    expect(delivery.status).toBe(DeliveryStatus.FAILED);
    const error = delivery.attempts[0]!.error;
    expect(error).toMatch(/localhost resolves to a loopback, private or link-local address; refused/);
    expect(error).not.toMatch(/127\.0\.0\.1|::1|::ffff/);
    expect(rcv.requests(path)).toHaveLength(0);
  });
});
