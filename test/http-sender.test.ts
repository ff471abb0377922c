// The sender and the retry policy on their own: what a single attempt does, and when the next one is due.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpSender } from "../server/delivery/http-sender.js";
import { backoffMs, nextDelayMs, retryAfterMs } from "../server/delivery/policy.js";
import { startReceiver, type Receiver } from "./helpers/receiver.js";

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
    expect(res.error).toMatch(/resolves to (127\.0\.0\.1|::1), a private address; refused/);
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

describe("retry policy", () => {
  const policy = { retries: 3, retryDelayMs: 1000, timeoutMs: 10_000 };
  it("backs off exponentially with ±20 % jitter", () => {
    expect(backoffMs(policy, 1, () => 0.5)).toBe(1000);
    expect(backoffMs(policy, 2, () => 0.5)).toBe(2000);
    expect(backoffMs(policy, 3, () => 0)).toBe(3200);
    expect(backoffMs(policy, 3, () => 1)).toBe(4800);
    expect(backoffMs({ ...policy, retryDelayMs: 3_600_000 }, 5, () => 0.5)).toBe(3_600_000);
  });

  it("stops after the last retry", () => {
    expect(nextDelayMs(policy, 3, 500, undefined, () => 0.5)).toBe(4000);
    expect(nextDelayMs(policy, 4, 500, undefined)).toBeUndefined();
    expect(nextDelayMs({ ...policy, retries: 0 }, 1, 500, undefined)).toBeUndefined();
  });

  it("honours Retry-After on 429 and 503 only, within the cap", () => {
    expect(nextDelayMs(policy, 1, 429, "30", () => 0.5)).toBe(30_000);
    expect(nextDelayMs(policy, 1, 503, "0", () => 0.5)).toBe(1000);
    expect(nextDelayMs(policy, 1, 500, "30", () => 0.5)).toBe(1000);
    expect(retryAfterMs("999999")).toBe(3_600_000);
    expect(retryAfterMs(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(retryAfterMs("soon")).toBeUndefined();
  });
});
