// Subscriber URLs that reach a private or loopback IPv4 address through an IPv6 form (IPv4-compatible and
// -mapped, SIIT, NAT64, 6to4, Teredo): how the domain classifies them, at validation and as the sender's
// connect-time rule judges an address. Pure: these addresses are only classified here, never registered, looked
// up or connected to (test/e2e/ssrf.test.ts has what needs a server, with plain loopback URLs).
import { describe, expect, it } from "vitest";
import { embeddedIPv4, parseIPv6 } from "../../server/domain/addresses.js";
import { addressRefusal, parseEgressAllow, type EgressAllowList } from "../../server/domain/egress.js";
import { DomainError } from "../../server/domain/errors.js";
import { isPrivateAddress, validateUrl } from "../../server/domain/validation.js";
import { LOOPBACK_ONLY } from "../helpers/hookwire-process.js";

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

/** Loopback reached through a transition mechanism: what a URL may name to get around a rule that names 127.0.0.0/8 and ::1 only. */
const LOOPBACK_IN_DISGUISE = [
  "::127.0.0.1", // IPv4-compatible
  "::7f00:1",
  "::ffff:0:7f00:1", // SIIT
  "::ffff:0:127.0.0.1",
  "64:ff9b::7f00:1", // NAT64
  "64:ff9b::127.0.0.1",
  "64:ff9b:1::7f00:1", // NAT64 local-use
  "2002:7f00:1::", // 6to4
  "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo
];

/** The error validateUrl throws for a URL, which Register and Send answer as INVALID_ARGUMENT with its message. */
function refusal(url: string, allowPrivate: boolean, egress: EgressAllowList | undefined): DomainError {
  try {
    validateUrl(url, allowPrivate, "url", egress);
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).kind).toBe("invalid");
    return err as DomainError;
  }
  throw new Error(`expected ${url} to be refused`);
}

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

describe("at connect time (the rule HttpSender applies to an IP literal, and its lookup to each address a name resolves to)", () => {
  it.each(PRIVATE_V6)("refuses %s as private", (address) => {
    expect(addressRefusal(address, false, false, undefined)).toBe("private");
    expect(addressRefusal(address, true, false, undefined)).toBe("private"); // reached through a host name: the same
    expect(addressRefusal(address, false, true, undefined)).toBeUndefined(); // HOOKWIRE_ALLOW_PRIVATE_URLS
  });

  it.each(PUBLIC_V6)("lets %s through", (address) => {
    expect(addressRefusal(address, false, false, undefined)).toBeUndefined();
  });
});

describe("under the tests' own loopback-only HOOKWIRE_EGRESS_ALLOW", () => {
  // Every server a test starts has this list (test/helpers/hookwire-process.ts): an exception to the private rule
  // covers only the addresses it names, so loopback itself passes and loopback in an IPv6 disguise does not.
  const harness = parseEgressAllow(LOOPBACK_ONLY)!;

  it.each(LOOPBACK_IN_DISGUISE)("Register and Send refuse %s, naming url, and the sender would not connect to it", (address) => {
    const err = refusal(`http://[${address}]:8080/hook`, false, harness);
    expect(err.message).toMatch(/^url: host ".*" is a loopback, private or link-local address/);
    expect(addressRefusal(address, false, false, harness)).toBe("private");
  });

  it("lets 127.0.0.0/8, ::1 and localhost through, and the IPv4-mapped form, which is the same address", () => {
    for (const url of ["http://127.0.0.1:9/hook", "http://127.9.9.9:9/hook", "http://[::1]:9/hook", "http://localhost:9/hook", "http://[::ffff:127.0.0.1]:9/hook"]) {
      expect(validateUrl(url, false, "url", harness), url).toBe(url);
    }
    for (const address of ["127.0.0.1", "::1", "::ffff:127.0.0.1", "::ffff:7f00:1"]) expect(addressRefusal(address, false, false, harness), address).toBeUndefined();
    // Whatever is not loopback stays out: private addresses by the private rule, public ones by the list.
    expect(addressRefusal("10.0.0.1", false, false, harness)).toBe("private");
    expect(addressRefusal("2606:4700::1111", false, false, harness)).toBe("outside");
  });
});
