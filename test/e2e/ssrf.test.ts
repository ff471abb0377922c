// Subscriber URLs and the private-address rule through the real server. Only plain loopback URLs are registered
// here: how IPv6 forms that embed loopback or private IPv4 addresses are classified (refused at validation and at
// connect time) is test/unit/addresses.test.ts, which only classifies them; the sender's connect-time lookup is in
// test/unit/http-sender.test.ts; refusals of loopback by a server whose list names 127.0.0.2 alone are in
// subscriptions.test.ts and egress.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, connectClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";

describe("through the real server", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("Register lets through the loopback the harness's HOOKWIRE_EGRESS_ALLOW names (127.0.0.0/8, ::1), by address and by name", async () => {
    // The private rule is in force (HOOKWIRE_ALLOW_PRIVATE_URLS unset): the list's exception covers only the addresses
    // it names, and localhost, a name, is judged when it resolves.
    const client = connectClient(server);
    for (const url of ["http://127.0.0.1:9/hook", "http://[::1]:9/hook", "http://localhost:9/hook"]) {
      const ok = await client.register({ url, events: ["*"] }, { headers: bearer(KEYS.acme) });
      expect(ok.subscription?.url, url).toBe(url);
    }
  });
});
