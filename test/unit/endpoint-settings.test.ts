// A subscription's extra headers and rate limit as requests give them: every refusal names its field.
import { describe, expect, it } from "vitest";
import { refusal } from "../helpers/refusal.js";
import { answeredHeaders, HEADER_LIMITS, HEADER_VALUE_MASK, requestHeaders, validateHeaders } from "../../server/domain/endpoint-headers.js";
import { rateBurst, validateRateLimit } from "../../server/domain/endpoint-rate.js";

describe("extra headers", () => {
  it("keeps names in lower case, in name order, values as given", () => {
    expect(validateHeaders({ "X-Api-Key": "k1 2", authorization: "Bearer abc", "x-empty": "", "x.b~!#$%&'*+^_`|": "é\tÿ" })).toEqual([
      { name: "authorization", value: "Bearer abc" },
      { name: "x-api-key", value: "k1 2" },
      { name: "x-empty", value: "" },
      { name: "x.b~!#$%&'*+^_`|", value: "é\tÿ" },
    ]);
    expect(validateHeaders({})).toEqual([]);
  });

  it.each([
    "webhook-id",
    "Webhook-Signature",
    "webhook-anything",
    "x-hub-signature",
    "X-Hub-Signature-256",
    "content-type",
    "Content-Length",
    "host",
    "user-agent",
    "x-webhook-event",
  ])("refuses %s, which Hookwire sets", (name) => {
    expect(refusal(() => validateHeaders({ [name]: "v" }))).toBe(`headers[${JSON.stringify(name)}]: is set by Hookwire on every delivery and cannot be replaced`);
  });

  it.each(["traceparent", "TraceParent"])("refuses %s, which Hookwire sets while tracing is on", (name) => {
    expect(refusal(() => validateHeaders({ [name]: "v" }))).toBe(
      `headers[${JSON.stringify(name)}]: is set by Hookwire on deliveries (the attempt's trace context, while tracing is on) and cannot be replaced`,
    );
  });

  it.each(["connection", "Transfer-Encoding", "te", "upgrade", "keep-alive", "proxy-authorization", "Proxy-Connection", "trailer", "expect"])(
    "refuses %s, the connection's own",
    (name) => {
      expect(refusal(() => validateHeaders({ [name]: "v" }))).toBe(`headers[${JSON.stringify(name)}]: is a hop-by-hop or framing header, which the connection manages`);
    },
  );

  it.each([
    ["x key", /^headers\["x key"\]: is not a header name/],
    ["x:y", /^headers\["x:y"\]: is not a header name/],
    ["", /^headers\[""\]: is not a header name/],
    ["x\r\nInjected", /^headers\["x\\r\\nInjected"\]: is not a header name/],
    ["ünï", /^headers\["ünï"\]: is not a header name/],
  ])("refuses the name %j", (name, message) => {
    expect(refusal(() => validateHeaders({ [name]: "v" }))).toMatch(message);
  });

  it.each([
    ["a\r\nx-injected: 1", "a line break (CR or LF)"],
    ["a\nb", "a line break (CR or LF)"],
    ["a\rb", "a line break (CR or LF)"],
    ["a\0b", "a NUL character"],
    ["a\u0007b", "the control character U+0007"],
    ["a\u007fb", "the control character U+007F"],
    ["a\u2028b", "the character U+2028, beyond Latin-1"],
    ["😀", "the character U+1F600, beyond Latin-1"],
  ])("refuses the value %j", (value, what) => {
    expect(refusal(() => validateHeaders({ "x-token": value }))).toContain(`headers["x-token"]: the value holds ${what}`);
  });

  it("refuses values with white space at either end, the mask, and names given twice in any case", () => {
    expect(refusal(() => validateHeaders({ "x-a": " v" }))).toBe('headers["x-a"]: the value starts or ends with white space (receivers would strip it)');
    expect(refusal(() => validateHeaders({ "x-a": "v\t" }))).toMatch(/^headers\["x-a"\]: the value starts or ends/);
    expect(refusal(() => validateHeaders({ "x-a": HEADER_VALUE_MASK }))).toMatch(/^headers\["x-a"\]: "\*{8}" is the mask/);
    expect(refusal(() => validateHeaders({ "X-A": "1", "x-a": "2" }))).toBe('headers["x-a"]: is given twice (header names are compared ignoring case)');
  });

  it("bounds how many and how large", () => {
    const many = Object.fromEntries(Array.from({ length: HEADER_LIMITS.count }, (_, i) => [`x-h${i}`, "v"]));
    expect(validateHeaders(many)).toHaveLength(HEADER_LIMITS.count);
    expect(refusal(() => validateHeaders({ ...many, "x-one-more": "v" }))).toBe(`headers: ${HEADER_LIMITS.count + 1} headers; at most ${HEADER_LIMITS.count}`);
    const exactly = { "x-big": "v".repeat(HEADER_LIMITS.totalChars - "x-big".length) };
    expect(validateHeaders(exactly)).toHaveLength(1);
    expect(refusal(() => validateHeaders({ ...exactly, "x-c": "" }))).toBe(`headers: names and values add up to ${HEADER_LIMITS.totalChars + 3} characters; at most ${HEADER_LIMITS.totalChars}`);
  });

  it("answers values masked unless asked, and makes request headers whose names cannot reach a prototype", () => {
    const headers = [
      { name: "__proto__", value: "p" },
      { name: "x-a", value: "1" },
    ];
    const masked = answeredHeaders(headers, false);
    expect(Object.entries(masked)).toEqual([
      ["__proto__", HEADER_VALUE_MASK],
      ["x-a", HEADER_VALUE_MASK],
    ]);
    expect(Object.getPrototypeOf(masked)).toBe(Object.prototype);
    expect(Object.entries(answeredHeaders(headers, true))).toEqual([
      ["__proto__", "p"],
      ["x-a", "1"],
    ]);
    expect(answeredHeaders(undefined, true)).toEqual({});
    const sent = { ...requestHeaders(headers), "webhook-id": "msg_1" };
    expect(Object.keys(sent)).toEqual(["__proto__", "x-a", "webhook-id"]);
    expect(Object.getPrototypeOf(sent)).toBe(Object.prototype);
  });
});

describe("rate limit", () => {
  it("takes 0 (none) to 10000 whole attempts a second, and refuses the rest naming the field", () => {
    for (const n of [0, 1, 10, 10_000]) expect(validateRateLimit(n)).toBe(n);
    for (const n of [-1, 10_001, 1.5]) expect(refusal(() => validateRateLimit(n))).toBe(`rate_limit_per_second: ${n} is outside 0..10000 (attempts a second; 0 for no limit)`);
  });

  it("bursts 20 ms worth, at least one", () => {
    expect([1, 10, 50, 51, 1000, 10_000].map(rateBurst)).toEqual([1, 1, 1, 2, 20, 200]);
  });
});
