// Subscriber URLs that reach a private or loopback IPv4 address through an IPv6 form: refused when
// validated, through the real server, and when the sender connects.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embeddedIPv4, parseIPv6 } from "../../server/domain/addresses.js";
import { HttpSender, publicOnlyLookup } from "../../server/engine/http-sender.js";
import { isPrivateAddress, validateUrl } from "../../server/domain/validation.js";
import { bearer, connectClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";

/** IPv6 addresses (as written in a URL) that embed a private or loopback IPv4 address, or are not global. */
const PRIVATE_V6 = [
  "::127.0.0.1", // IPv4-compatible
  "::7f00:1",
  "::a00:1", // ::10.0.0.1
  "::ffff:127.0.0.1", // IPv4-mapped
  "::ffff:7f00:1",
  "::ffff:a9fe:a9fe", // 169.254.169.254, the metadata address
  "0:0:0:0:0:ffff:192.168.1.1",
  "::ffff:0:7f00:1", // SIIT IPv4-translated
  "::ffff:0:127.0.0.1",
  "64:ff9b::7f00:1", // NAT64 well-known prefix
  "64:ff9b::127.0.0.1",
  "64:ff9b::a9fe:a9fe",
  "64:ff9b:1::7f00:1", // NAT64 local-use
  "64:ff9b:1:7f00:0:100::",
  "2002:7f00:1::", // 6to4
  "2002:a00:1:1234::1",
  "2002:c0a8:101::1",
  "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1 (inverted)
  "2001:0:a00:1:8000:63bf:3fff:fdd2", // Teredo, server 10.0.0.1
  "::1",
  "::",
  "fe80::1",
  "fe80::1%eth0",
  "fd00::1",
  "2001:db8::1",
];

const PUBLIC_V6 = [
  "2606:4700::1111",
  "2001:4860:4860::8888",
  "64:ff9b::808:808", // 8.8.8.8 via NAT64
  "64:ff9b::8.8.8.8",
  "2002:808:808::", // 6to4 of 8.8.8.8
  "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo: server 65.54.227.120, client 8.8.8.8
  "::ffff:8.8.8.8",
  "::ffff:0:808:808",
];

describe("IPv6 parsing", () => {
  it("expands every text form to eight groups", () => {
    expect(parseIPv6("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6("1::")).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6("::127.0.0.1")).toEqual([0, 0, 0, 0, 0, 0, 0x7f00, 1]);
    expect(parseIPv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIPv6("64:ff9b::1.2.3.4")).toEqual([0x64, 0xff9b, 0, 0, 0, 0, 0x102, 0x304]);
    expect(parseIPv6("fe80::1%eth0")).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    for (const bad of ["1:2:3:4:5:6:7", "1::2::3", "1:2:3:4:5:6:7:8::", "::1.2.3", "1.2.3.4::", "::g", "12345::"]) {
      expect(parseIPv6(bad), bad).toBeUndefined();
    }
  });

  it("finds the IPv4 address inside each transition form", () => {
    const inside = (a: string) => embeddedIPv4(parseIPv6(a)!);
    expect(inside("::ffff:0:7f00:1")).toEqual(["127.0.0.1"]);
    expect(inside("2002:7f00:1::")).toEqual(["127.0.0.1"]);
    expect(inside("64:ff9b::808:808")).toEqual(["8.8.8.8"]);
    expect(inside("2001:0:4136:e378:8000:63bf:3fff:fdd2")).toEqual(["65.54.227.120", "192.0.2.45"]);
    expect(inside("2606:4700::1111")).toEqual([]);
  });
});

describe("isPrivateAddress and validateUrl", () => {
  it.each(PRIVATE_V6)("refuse %s", (address) => {
    expect(isPrivateAddress(address)).toBe(true);
    if (!address.includes("%")) {
      expect(() => validateUrl(`https://[${address}]/hook`, false)).toThrow(/^url: host ".*" is a loopback, private or link-local address/);
      expect(validateUrl(`https://[${address}]/hook`, true)).toBe(`https://[${address}]/hook`);
    }
  });

  it.each(PUBLIC_V6)("accept %s", (address) => {
    expect(isPrivateAddress(address)).toBe(false);
    expect(validateUrl(`https://[${address}]/hook`, false)).toBe(`https://[${address}]/hook`);
  });
});

describe("through the real server", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("Register refuses every private IPv6 form with INVALID_ARGUMENT naming url", async () => {
    const client = connectClient(server);
    for (const address of ["::127.0.0.1", "64:ff9b::7f00:1", "::ffff:0:7f00:1", "2002:7f00:1::", "2001:0:4136:e378:8000:63bf:80ff:fffe"]) {
      const err = await client.register({ url: `http://[${address}]:8080/hook`, events: ["*"] }, { headers: bearer(KEYS.acme) }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code, address).toBe(Code.InvalidArgument);
      expect(err?.rawMessage).toMatch(/^url: host /);
    }
    // The harness's loopback-only HOOKWIRE_EGRESS_ALLOW (127.0.0.0/8, ::1) lets loopback itself through, never
    // the transition forms above: an exception to the private rule covers only the addresses it names.
    const ok = await client.register({ url: "http://[::1]:9/hook", events: ["*"] }, { headers: bearer(KEYS.acme) });
    expect(ok.subscription?.url).toBe("http://[::1]:9/hook");
  });
});

describe("at connect time", () => {
  it("the sender refuses a literal IPv6 URL that reaches loopback", async () => {
    const sender = new HttpSender({ allowPrivateUrls: false, connectionsPerOrigin: 1, userAgent: "test" });
    try {
      for (const address of ["::ffff:0:7f00:1", "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::"]) {
        const res = await sender.send(`http://[${address}]:9/hook`, {}, "{}", 2000);
        expect(res.statusCode).toBe(0);
        expect(res.error, address).toMatch(/is a private address; refused$/);
      }
    } finally {
      await sender.close();
    }
  });

  it("the connect-time lookup refuses a name resolving to such an address", async () => {
    const looked = (name: string) =>
      new Promise<NodeJS.ErrnoException | null>((resolve) => publicOnlyLookup(name, { all: true }, (err) => resolve(err)));
    for (const address of ["::ffff:0:7f00:1", "64:ff9b::7f00:1", "2001:0:4136:e378:8000:63bf:80ff:fffe"]) {
      const err = await looked(address);
      expect(err?.code, address).toBe("EHOOKWIREPRIVATE");
    }
    expect(await looked("2606:4700::1111")).toBeNull();
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
