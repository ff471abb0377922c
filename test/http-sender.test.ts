// The sender on its own: what a single attempt does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpSender } from "../server/engine/http-sender.js";
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
