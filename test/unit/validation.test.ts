import { describe, expect, it } from "vitest";
import { refusal } from "../helpers/refusal.js";
import { eventMatches, isPrivateAddress, pageSize, validateEventFilters, validateSecret, validateUrl } from "../../server/domain/validation.js";
import { generateSecret } from "@hookwire/sdk/node";

describe("subscriber URLs", () => {
  it("accepts public http and https URLs", () => {
    expect(validateUrl("https://example.com/hooks?x=1", false)).toBe("https://example.com/hooks?x=1");
    expect(validateUrl("http://93.184.216.34:8080/", false)).toBe("http://93.184.216.34:8080/");
  });

  it.each([
    ["", /url: is required/],
    ["not a url", /url: .* is not an absolute URL/],
    ["ftp://example.com/", /url: scheme "ftp"/],
    ["https://user:pw@example.com/", /credentials/],
    [`https://example.com/${"a".repeat(2048)}`, /longer than 2048/],
  ])("refuses %j", (url, msg) => {
    expect(refusal(() => validateUrl(url, true))).toMatch(msg);
  });

  it.each([
    "http://127.0.0.1/",
    "http://localhost:3000/",
    "http://10.1.2.3/",
    "http://172.20.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
  ])("refuses the private address %s unless allowed", (url) => {
    expect(refusal(() => validateUrl(url, false))).toMatch(/url: host .* HOOKWIRE_ALLOW_PRIVATE_URLS/);
    expect(validateUrl(url, true)).toBe(url);
  });

  it("classifies addresses", () => {
    expect(isPrivateAddress("8.8.8.8")).toBe(false);
    expect(isPrivateAddress("2606:4700::1111")).toBe(false);
    expect(isPrivateAddress("::ffff:10.0.0.1")).toBe(true);
    expect(isPrivateAddress("100.64.1.1")).toBe(true);
  });
});

describe("event filters", () => {
  it("accepts names, prefix wildcards and *", () => {
    expect(validateEventFilters(["order.created", "invoice.*", "*", "order.created"])).toEqual(["order.created", "invoice.*", "*"]);
  });

  it.each([
    [[], /events: must list at least one/],
    [["order..created"], /events\[0\]/],
    [["ok", "order.*.x"], /events\[1\]/],
    [["*.created"], /events\[0\]/],
    [["a b"], /events\[0\]/],
    [[`x${".y".repeat(70)}`], /events\[0\]/],
  ])("refuses %j", (events, msg) => {
    expect(refusal(() => validateEventFilters(events as string[]))).toMatch(msg);
  });

  it("matches events", () => {
    expect(eventMatches(["order.*"], "order.created")).toBe(true);
    expect(eventMatches(["order.*"], "order.item.added")).toBe(true);
    expect(eventMatches(["order.*"], "orders.created")).toBe(false);
    expect(eventMatches(["order.*"], "order")).toBe(false);
    expect(eventMatches(["*"], "anything")).toBe(true);
    expect(eventMatches(["a.b"], "a.b")).toBe(true);
    expect(eventMatches(["a.b"], "a.bc")).toBe(false);
  });
});

describe("secrets and paging", () => {
  it("accepts whsec_ secrets of 24 to 64 bytes", () => {
    const s = generateSecret();
    expect(validateSecret(s)).toBe(s);
    expect(validateSecret("whsec_" + Buffer.alloc(24, 1).toString("base64"))).toBeTruthy();
  });

  it.each(["plain-secret", "whsec_short", "whsec_" + Buffer.alloc(16).toString("base64"), "whsec_" + Buffer.alloc(65).toString("base64"), "whsec_!!!!"])(
    "refuses %j",
    (s) => {
      expect(refusal(() => validateSecret(s))).toMatch(/^secret: must be "whsec_"/);
    },
  );

  it("defaults and caps the page size", () => {
    expect(pageSize(0)).toBe(50);
    expect(pageSize(7)).toBe(7);
    expect(pageSize(10_000)).toBe(100);
    expect(refusal(() => pageSize(-1))).toMatch(/page_size/);
  });
});
