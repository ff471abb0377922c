// The sender on its own: what a single attempt does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEgressAllow } from "../../server/domain/egress.js";
import { destinationLookup, HttpSender, publicOnlyLookup } from "../../server/engine/http-sender.js";
import { LOOPBACK_ONLY } from "../helpers/hookwire-process.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

let rcv: Receiver;
beforeAll(async () => {
  rcv = await startReceiver();
});
afterAll(async () => {
  await rcv.close();
});

describe("private addresses at connect time", () => {
  it("refuses a host name that resolves to loopback, however the URL was accepted", async () => {
    const sender = new HttpSender({ allowPrivateUrls: false, connectionsPerOrigin: 2, userAgent: "test" });
    const port = new URL(rcv.url("/")).port;
    const res = await sender.send(`http://localhost:${port}/private`, {}, "{}", 2000);
    expect(res.statusCode).toBe(0);
    // The name, never what it resolved to: a tenant must not learn internal addresses (a DNS oracle).
    expect(res.error).toMatch(/localhost resolves to a loopback, private or link-local address; refused/);
    expect(res.error).not.toMatch(/127\.0\.0\.1|::1/);
    const literal = await sender.send(`http://127.0.0.1:${port}/private`, {}, "{}", 2000);
    expect(literal.error).toBe("127.0.0.1 is a private address; refused");
    expect(rcv.requests("/private")).toHaveLength(0);
    await sender.close();
  });

  it("sends when private addresses are allowed", async () => {
    const sender = new HttpSender({ allowPrivateUrls: true, connectionsPerOrigin: 2, userAgent: "test-agent" });
    rcv.route("/ok", { respond: () => ({ status: 202, body: "accepted" }) });
    const res = await sender.send(rcv.url("/ok"), { "x-test": "1" }, '{"a":1}', 2000);
    expect(res).toMatchObject({ statusCode: 202, excerpt: "accepted", error: "" });
    const [got] = rcv.requests("/ok");
    expect(got!.headers["user-agent"]).toBe("test-agent");
    expect(got!.headers["x-test"]).toBe("1");
    expect(got!.body).toBe('{"a":1}');
    const refused = await sender.send("http://127.0.0.1:1/", {}, "{}", 2000);
    expect(refused.statusCode).toBe(0);
    expect(refused.error).toMatch(/ECONNREFUSED/);
    await sender.close();
  });
});

describe("the connect-time lookup and what an attempt's error names (loopback only: how IPv6 forms of loopback are judged is test/unit/addresses.test.ts)", () => {
  type Looked = { err: NodeJS.ErrnoException | null; addresses: unknown };
  const lookUp = (lookup: typeof publicOnlyLookup, name: string) =>
    new Promise<Looked>((resolve) => lookup(name, { all: true }, (err, addresses) => resolve({ err, addresses })));

  it("refuses a name when an address it resolves to is refused, and hands the addresses on when none is", async () => {
    const refused = await lookUp(publicOnlyLookup, "localhost");
    expect(refused.err?.code).toBe("EHOOKWIREPRIVATE");
    // The tests' own list names loopback: the same name now resolves, to loopback only.
    const allowed = await lookUp(destinationLookup(false, parseEgressAllow(LOOPBACK_ONLY)), "localhost");
    expect(allowed.err).toBeNull();
    const addresses = allowed.addresses as Array<{ address: string; family: number }>;
    expect(addresses.length).toBeGreaterThan(0);
    for (const a of addresses) expect(["127.0.0.1", "::1"]).toContain(a.address);
  });

  it("a name refused at connect time is named without the address it resolved to (no DNS oracle)", async () => {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => publicOnlyLookup("localhost", { all: true }, (e) => resolve(e)));
    expect(err?.code).toBe("EHOOKWIREPRIVATE");
    expect(err?.message).toBe("localhost resolves to a loopback, private or link-local address; refused");
    const sender = new HttpSender({ allowPrivateUrls: false, connectionsPerOrigin: 1, userAgent: "test" });
    try {
      const res = await sender.send("http://localhost:9/hook", {}, "{}", 2000);
      expect(res.statusCode).toBe(0);
      expect(res.error).toMatch(/localhost resolves to a loopback, private or link-local address; refused/);
      expect(res.error).not.toMatch(/127\.0\.0\.1|::1|::ffff/);
    } finally {
      await sender.close();
    }
  });

  it("a connection error names the URL's host, not the address it resolved to", async () => {
    const sender = new HttpSender({ allowPrivateUrls: true, connectionsPerOrigin: 1, userAgent: "test" });
    try {
      // Port 9 of loopback: nothing listens, so the connection is refused.
      const named = await sender.send("http://localhost:9/hook", {}, "{}", 2000);
      expect(named.error).toMatch(/ECONNREFUSED/);
      expect(named.error).toContain("localhost:9");
      expect(named.error).not.toMatch(/127\.0\.0\.1|::1/);
      // A literal is the tenant's own address: said as it is.
      expect((await sender.send("http://127.0.0.1:9/hook", {}, "{}", 2000)).error).toContain("127.0.0.1:9");
    } finally {
      await sender.close();
    }
  });
});

describe("one attempt's answer", () => {
  it("keeps the status and a 1 KiB excerpt of a long answer, and the Retry-After header", async () => {
    const sender = new HttpSender({ allowPrivateUrls: true, connectionsPerOrigin: 2, userAgent: "test" });
    rcv.route("/long", { respond: () => ({ status: 503, headers: { "retry-after": "7" }, body: "é".repeat(100_000) }) });
    const res = await sender.send(rcv.url("/long"), {}, "{}", 5000);
    expect(res.statusCode).toBe(503);
    expect(res.retryAfter).toBe("7");
    expect(Buffer.byteLength(res.excerpt.replace(/\uFFFD$/, ""))).toBeLessThanOrEqual(1024);
    expect(res.excerpt.startsWith("é".repeat(500))).toBe(true);
    expect(res.error).toBe("");
    await sender.close();
  });

  it("times out at its deadline, also while it waits for a connection, and an interrupted attempt says so at once", async () => {
    const sender = new HttpSender({ allowPrivateUrls: true, connectionsPerOrigin: 1, userAgent: "test" });
    rcv.route("/hang", { respond: () => ({ status: 200, hang: true }) });
    const first = sender.send(rcv.url("/hang"), {}, "{}", 600);
    const started = performance.now();
    const queued = await sender.send(rcv.url("/hang"), {}, "{}", 300); // the one connection is busy with the first
    expect(queued).toMatchObject({ statusCode: 0, error: "timed out after 300 ms", interrupted: false });
    expect(performance.now() - started).toBeLessThan(550);
    expect((await first).error).toBe("timed out after 600 ms");
    const interrupt = new AbortController();
    const before = rcv.requests("/hang").length;
    const pending = sender.send(rcv.url("/hang"), {}, "{}", 5000, interrupt.signal);
    await rcv.waitFor(() => rcv.requests("/hang").length > before); // in flight: the receiver has it
    interrupt.abort();
    const interrupted = await pending;
    expect(interrupted).toMatchObject({ statusCode: 0, interrupted: true });
    expect(interrupted.durationMs).toBeLessThan(1000);
    await sender.destroy();
  });
});
