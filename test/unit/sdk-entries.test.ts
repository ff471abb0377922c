// The SDK's entries. The main one holds the client, its errors and types only. @hookwire/sdk/node and
// @hookwire/sdk/web, the twin entries for signatures and receivers: the same names, the same answers
// (against the shared vectors, and for any input), every MAC behind a Promise in both, and no node:
// import anywhere in the web entry's module graph.
import { readFileSync } from "node:fs";
import { createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as main from "@hookwire/sdk";
import * as node from "@hookwire/sdk/node";
import * as web from "@hookwire/sdk/web";
import { moduleGraph } from "../helpers/module-graph.js";
import { vectors } from "../vectors/index.js";

const SDK_SRC = fileURLToPath(new URL("../../sdk/src/", import.meta.url));

const tsSource = (from: string, spec: string) => resolve(dirname(from), spec.replace(/\.js$/, ".ts"));
const NODE_BUILTIN = /^node:|^(?:fs|path|http|https|http2|crypto|buffer|stream|net|tls|os|url|util|zlib|events|child_process)(?:\/|$)/;

const ENTRIES = [
  ["node", node],
  ["web", web],
] as const;

describe("the main entry", () => {
  it("exports the client, its errors and types: 30 names, none of the twins'", () => {
    const text = readFileSync(`${SDK_SRC}index.ts`, "utf8");
    const names = [...text.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) => m[1]!.split(",").map((n) => n.trim()).filter(Boolean));
    expect(names).toHaveLength(30);
    // The values among them are what the module has at run time, and nothing else.
    expect(Object.keys(main).sort()).toEqual(names.filter((n) => n in main).sort());
    expect(Object.keys(main).sort()).toEqual(["Code", "DeliveryFailedError", "HookwireError", "InvalidArgumentError", "NotFoundError", "UnauthenticatedError", "UnavailableError", "createHookwireTransport", "createWebhookManager"]);
    expect(names.filter((n) => n in node || ["VerifiedDelivery", "ReceiverOptions", "HeaderSource", "Body"].includes(n))).toEqual([]);
  });
});

describe("the web entry's module graph", () => {
  it("imports nothing from Node, and no package at all", () => {
    const graph = moduleGraph(`${SDK_SRC}web/index.ts`, tsSource);
    expect(graph.files.length).toBeGreaterThan(2);
    expect(graph.external.filter((s) => NODE_BUILTIN.test(s))).toEqual([]);
    expect(graph.external).toEqual([]);
    // The check itself must see a node: import where there is one.
    const nodeGraph = moduleGraph(`${SDK_SRC}node/index.ts`, tsSource);
    expect(nodeGraph.external).toContain("node:crypto");
  });
});

describe("twins", () => {
  it("export the same names, of the same kinds", () => {
    expect(Object.keys(web).sort()).toEqual(Object.keys(node).sort());
    for (const [name, value] of Object.entries(node)) expect(typeof (web as Record<string, unknown>)[name], name).toBe(typeof value);
    expect(web.SignatureInputError).toBe(node.SignatureInputError);
    expect(web.DEFAULT_TOLERANCE_SECONDS).toBe(node.DEFAULT_TOLERANCE_SECONDS);
  });

  it.each(ENTRIES)("%s: every function that computes a MAC answers a Promise, and a malformed input rejects", async (_, e) => {
    const v = vectors.standard_webhooks[0]!;
    const input = { webhookId: v.webhook_id, timestamp: v.timestamp, body: v.body, secret: v.secret, signature: v.signature, now: v.timestamp };
    const answers = [
      e.signGithub("{}", "s"),
      e.signStandard(v.webhook_id, v.timestamp, v.body, v.secret),
      e.verifyGithub("{}", "sha256=00", "s"),
      e.verifyStandard(input),
      e.checkGithub("{}", "sha256=00", "s"),
      e.checkStandard(input),
      e.verifyDelivery({}, "{}", { secret: "s" }),
      e.verifyRequest(new Request("http://127.0.0.1/", { method: "POST", body: "{}" }), { secret: "s" }),
    ];
    for (const answer of answers) expect(answer).toBeInstanceOf(Promise);
    await Promise.all(answers);
    await expect(e.signGithub("{}", "")).rejects.toBeInstanceOf(node.SignatureInputError);
    await expect(e.signStandard("", 1, "{}", v.secret)).rejects.toThrow(/webhook_id/);
    await expect(e.signStandard("msg_1", 1, "{}", "whsec_not base64!")).rejects.toThrow(/^secret: /);
    await expect(e.verifyGithub("{}", "sha256=00", "")).rejects.toBeInstanceOf(node.SignatureInputError);
  });

  it.each(ENTRIES)("%s: generateSecret is whsec_ + base64 of 32 random bytes, and keys both schemes", async (_, e) => {
    const secret = e.generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(e.generateSecret()).not.toBe(secret);
    const signature = await e.signStandard("msg_1", 1_700_000_000, "{}", secret);
    expect(await node.verifyStandard({ webhookId: "msg_1", timestamp: 1_700_000_000, body: "{}", signature, secret, now: 1_700_000_000 })).toBe(true);
  });
});

const enc = (s: string) => new TextEncoder().encode(s);
const nowOf = (ts: number) => ts + 10;

describe.each(ENTRIES)("%s, against the vectors", (_, e) => {
  it.each(vectors.standard_webhooks)("signs and verifies Standard Webhooks: $name", async (v) => {
    expect(await e.signStandard(v.webhook_id, v.timestamp, v.body, v.secret)).toBe(v.signature);
    expect(await e.signStandard(v.webhook_id, v.timestamp, enc(v.body), Buffer.from(v.secret.slice(6), "base64"))).toBe(v.signature);
    const input = { webhookId: v.webhook_id, timestamp: v.timestamp, body: v.body, secret: v.secret, signature: v.signature, now: v.timestamp };
    expect(await e.verifyStandard(input)).toBe(true);
    expect(await e.checkStandard({ ...input, now: v.timestamp + 301 })).toBe("timestamp is too old");
    expect(await e.checkStandard({ ...input, now: v.timestamp - 301 })).toBe("timestamp is too far in the future");
    expect(await e.checkStandard({ ...input, body: v.body + " " })).toBe("signature does not match");
  });

  it.each(vectors.github)("signs and verifies GitHub style: $name", async (v) => {
    expect(await e.signGithub(v.body, v.secret)).toBe(v.signature);
    expect(await e.signGithub(enc(v.body), v.secret)).toBe(v.signature);
    expect(await e.verifyGithub(v.body, v.signature, v.secret)).toBe(true);
    expect(await e.verifyGithub(v.body, "sha256=" + v.signature.slice(7).toUpperCase(), v.secret)).toBe(true);
    expect(await e.checkGithub(v.body, v.signature, v.secret + "x")).toBe("signature does not match");
    expect(await e.checkGithub(v.body, v.signature.slice(7), v.secret)).toBe('signature does not start with "sha256="');
  });

  it.each(vectors.standard_webhooks)("verifies a delivery, Standard Webhooks: $name", async (v) => {
    const headers = { "Webhook-Id": v.webhook_id, "Webhook-Timestamp": String(v.timestamp), "Webhook-Signature": v.signature, "X-Webhook-Event": "e.v" };
    const options = { secret: v.secret, now: nowOf(v.timestamp) };
    const ok = await e.verifyDelivery(headers, v.body, options);
    expect(ok).toEqual({ valid: true, scheme: "standard-webhooks", webhookId: v.webhook_id, event: "e.v", body: v.body });
    expect(await e.verifyDelivery(new Headers(headers), enc(v.body).buffer as ArrayBuffer, options)).toEqual(ok);
    expect(await e.verifyRequest(new Request("http://127.0.0.1/", { method: "POST", headers, body: v.body }), options)).toEqual(ok);
    expect(await e.verifyDelivery(headers, v.body + " ", options)).toMatchObject({ valid: false, reason: "signature does not match" });
    expect(await e.verifyDelivery(headers, v.body, { ...options, now: v.timestamp + 301 })).toMatchObject({ valid: false, reason: "timestamp is too old" });
    // A rotated secret: the header lists the old signature beside the new.
    const rotated = { ...headers, "Webhook-Signature": `v1,${"A".repeat(43)}= ${v.signature}` };
    expect(await e.verifyDelivery(rotated, v.body, options)).toMatchObject({ valid: true });
  });

  it.each(vectors.github)("verifies a delivery, GitHub style: $name", async (v) => {
    const headers = { "X-Hub-Signature-256": v.signature };
    expect(await e.verifyDelivery(headers, v.body, { secret: v.secret, scheme: "github" })).toMatchObject({ valid: true, scheme: "github" });
    expect(await e.verifyDelivery(headers, v.body, { secret: v.secret + "x", scheme: "github" })).toMatchObject({ valid: false, reason: "signature does not match" });
  });

  it("never downgrades: a whsec_ secret with only the GitHub-style header is refused", async () => {
    const secret = vectors.standard_webhooks[0]!.secret;
    const headers = { "x-hub-signature-256": await e.signGithub("{}", secret) };
    expect(await e.verifyDelivery(headers, "{}", { secret })).toEqual({ valid: false, reason: "webhook-signature header is missing", body: "{}" });
    expect(await e.verifyDelivery(headers, "{}", { secret, scheme: "github" })).toMatchObject({ valid: true });
  });

  it("a secret that cannot key Standard Webhooks is a refusal that names it, not a throw", async () => {
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": "v1,AAAA" };
    const got = await e.verifyDelivery(headers, "{}", { secret: "whsec_not base64!", now: 1700000000 });
    expect(got).toMatchObject({ valid: false, reason: expect.stringMatching(/^secret: /) });
    expect(await e.verifyDelivery(headers, "{}", { secret: "", scheme: "github" })).toMatchObject({ valid: false });
  });
});

/** Posts `body` to a loopback node:http server and answers what `check` made of the IncomingMessage. */
async function onIncomingMessage<T>(headers: Record<string, string>, body: string, check: (req: IncomingMessage) => Promise<T>): Promise<T> {
  let result: Promise<T> | undefined;
  const server = createServer((req, res) => {
    result = check(req);
    result.then(() => res.end(), () => res.end());
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  try {
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((done, fail) => {
      const req = request({ host: "127.0.0.1", port, method: "POST", headers }, (res) => res.resume().on("end", done));
      req.on("error", fail);
      // Two writes, so that the body arrives in more than one chunk.
      req.write(body.slice(0, 3));
      req.end(body.slice(3));
    });
    return await result!;
  } finally {
    server.close();
  }
}

describe.each(ENTRIES)("%s: verifyRequest on a Node IncomingMessage", (_, e) => {
  const v = vectors.standard_webhooks[0]!;
  const headers = { "webhook-id": v.webhook_id, "webhook-timestamp": String(v.timestamp), "webhook-signature": v.signature, "x-webhook-event": "e.v" };
  const options = { secret: v.secret, now: nowOf(v.timestamp) };

  it("reads the raw body, in Buffers or, after setEncoding, in strings", async () => {
    const expected = { valid: true, scheme: "standard-webhooks", webhookId: v.webhook_id, event: "e.v", body: v.body };
    expect(await onIncomingMessage(headers, v.body, (req) => e.verifyRequest(req, options))).toEqual(expected);
    expect(await onIncomingMessage(headers, v.body, (req) => e.verifyRequest(req.setEncoding("utf8"), options))).toEqual(expected);
    expect(await onIncomingMessage(headers, v.body + " ", (req) => e.verifyRequest(req, options))).toMatchObject({ valid: false, reason: "signature does not match" });
  });
});

describe("the same answers from both twins", () => {
  it("for signed, tampered and malformed deliveries of any body, secret and headers", async () => {
    const secretArb = fc.oneof(
      fc.uint8Array({ minLength: 24, maxLength: 64 }).map((b) => `whsec_${Buffer.from(b).toString("base64")}`),
      fc.string({ minLength: 0, maxLength: 20 }),
      fc.constant("whsec_%%%"),
    );
    const mutate = fc.constantFrom("none", "body", "signature", "timestamp", "drop-signature", "drop-id", "garbage-signature", "uppercase-names");
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), secretArb, mutate, fc.constantFrom<node.ReceiverOptions["scheme"]>(undefined, "github", "standard-webhooks"), async (body, secret, how, scheme) => {
        const ts = 1_700_000_000;
        const headers: Record<string, string> = { "webhook-id": "msg_x", "webhook-timestamp": String(ts), "x-webhook-event": "a.b" };
        const standard = await web.signStandard("msg_x", ts, body, secret).catch(() => "v1,bm90IGEgc2lnbmF0dXJl");
        expect(await node.signStandard("msg_x", ts, body, secret).catch(() => "v1,bm90IGEgc2lnbmF0dXJl")).toBe(standard);
        headers["webhook-signature"] = standard;
        if (secret) {
          headers["x-hub-signature-256"] = await web.signGithub(body, secret);
          expect(await node.signGithub(body, secret)).toBe(headers["x-hub-signature-256"]);
        }
        let sent = body;
        if (how === "body") sent = body + "!";
        if (how === "signature") headers["webhook-signature"] = headers["webhook-signature"]!.replace(/.{4}$/, "AAA=");
        if (how === "timestamp") headers["webhook-timestamp"] = String(ts + 1);
        if (how === "drop-signature") delete headers["webhook-signature"];
        if (how === "drop-id") delete headers["webhook-id"];
        if (how === "garbage-signature") headers["x-hub-signature-256"] = "sha256=zz";
        const given = how === "uppercase-names" ? Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v])) : headers;
        const options = { secret, scheme, now: ts };
        expect(await web.verifyDelivery(given, sent, options)).toEqual(await node.verifyDelivery(given, sent, options));
      }),
      { numRuns: 300 },
    );
  });
});
