// @hookwire/sdk/verify, the receiver entry for any runtime: on Web Crypto, against the shared vectors,
// the same answers as the Node twin for every input, and no node: import anywhere in its module graph.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyDelivery as verifyOnNode } from "@hookwire/sdk/verify/node";
import { signGithub, signStandard } from "@hookwire/sdk/signature";
import { verifyDelivery, verifyRequest, type ReceiverOptions } from "@hookwire/sdk/verify";
import { moduleGraph } from "../helpers/module-graph.js";
import { vectors } from "../vectors/index.js";

const SDK_SRC = fileURLToPath(new URL("../../sdk/src/", import.meta.url));

const tsSource = (from: string, spec: string) => resolve(dirname(from), spec.replace(/\.js$/, ".ts"));
const NODE_BUILTIN = /^node:|^(?:fs|path|http|https|http2|crypto|buffer|stream|net|tls|os|url|util|zlib|events|child_process)(?:\/|$)/;

describe("the verify entry's module graph", () => {
  it("imports nothing from Node, and no package at all", () => {
    const graph = moduleGraph(`${SDK_SRC}verify.ts`, tsSource);
    expect(graph.files.length).toBeGreaterThan(2);
    expect(graph.external.filter((s) => NODE_BUILTIN.test(s))).toEqual([]);
    expect(graph.external).toEqual([]);
    // The check itself must see a node: import where there is one.
    const nodeGraph = moduleGraph(`${SDK_SRC}verify-node.ts`, tsSource);
    expect(nodeGraph.external).toContain("node:crypto");
  });
});

const enc = (s: string) => new TextEncoder().encode(s);
const nowOf = (ts: number) => ts + 10;

describe("on Web Crypto, against the vectors", () => {
  it.each(vectors.standard_webhooks)("Standard Webhooks: $name", async (v) => {
    const headers = { "Webhook-Id": v.webhook_id, "Webhook-Timestamp": String(v.timestamp), "Webhook-Signature": v.signature, "X-Webhook-Event": "e.v" };
    const options = { secret: v.secret, now: nowOf(v.timestamp) };
    const ok = await verifyDelivery(headers, v.body, options);
    expect(ok).toEqual({ valid: true, scheme: "standard-webhooks", webhookId: v.webhook_id, event: "e.v", body: v.body });
    expect(await verifyDelivery(new Headers(headers), enc(v.body).buffer as ArrayBuffer, options)).toEqual(ok);
    expect(await verifyRequest(new Request("http://r/", { method: "POST", headers, body: v.body }), options)).toEqual(ok);
    expect(await verifyDelivery(headers, v.body + " ", options)).toMatchObject({ valid: false, reason: "signature does not match" });
    expect(await verifyDelivery(headers, v.body, { ...options, now: v.timestamp + 301 })).toMatchObject({ valid: false, reason: "timestamp is too old" });
    // A rotated secret: the header lists the old signature beside the new.
    const rotated = { ...headers, "Webhook-Signature": `v1,${"A".repeat(43)}= ${v.signature}` };
    expect(await verifyDelivery(rotated, v.body, options)).toMatchObject({ valid: true });
  });

  it.each(vectors.github)("GitHub style: $name", async (v) => {
    const headers = { "X-Hub-Signature-256": v.signature };
    expect(await verifyDelivery(headers, v.body, { secret: v.secret, scheme: "github" })).toMatchObject({ valid: true, scheme: "github" });
    expect(await verifyDelivery(headers, v.body, { secret: v.secret + "x", scheme: "github" })).toMatchObject({ valid: false, reason: "signature does not match" });
  });

  it("never downgrades: a whsec_ secret with only the GitHub-style header is refused", async () => {
    const secret = vectors.standard_webhooks[0]!.secret;
    const headers = { "x-hub-signature-256": signGithub("{}", secret) };
    expect(await verifyDelivery(headers, "{}", { secret })).toEqual({ valid: false, reason: "webhook-signature header is missing", body: "{}" });
    expect(await verifyDelivery(headers, "{}", { secret, scheme: "github" })).toMatchObject({ valid: true });
  });

  it("a secret that cannot key Standard Webhooks is a refusal that names it", async () => {
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": "v1,AAAA" };
    const got = await verifyDelivery(headers, "{}", { secret: "whsec_not base64!", now: 1700000000 });
    expect(got).toMatchObject({ valid: false, reason: expect.stringMatching(/^secret: /) });
    expect(await verifyDelivery(headers, "{}", { secret: "", scheme: "github" })).toMatchObject({ valid: false });
  });
});

describe("the same answer as the Node twin", () => {
  it("for signed, tampered and malformed deliveries of any body, secret and headers", async () => {
    const secretArb = fc.oneof(
      fc.uint8Array({ minLength: 24, maxLength: 64 }).map((b) => `whsec_${Buffer.from(b).toString("base64")}`),
      fc.string({ minLength: 0, maxLength: 20 }),
      fc.constant("whsec_%%%"),
    );
    const mutate = fc.constantFrom("none", "body", "signature", "timestamp", "drop-signature", "drop-id", "garbage-signature", "uppercase-names");
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), secretArb, mutate, fc.constantFrom<ReceiverOptions["scheme"]>(undefined, "github", "standard-webhooks"), async (body, secret, how, scheme) => {
        const ts = 1_700_000_000;
        const headers: Record<string, string> = { "webhook-id": "msg_x", "webhook-timestamp": String(ts), "x-webhook-event": "a.b" };
        try {
          headers["webhook-signature"] = signStandard("msg_x", ts, body, secret);
        } catch {
          headers["webhook-signature"] = "v1,bm90IGEgc2lnbmF0dXJl";
        }
        if (secret) headers["x-hub-signature-256"] = signGithub(body, secret);
        let sent = body;
        if (how === "body") sent = body + "!";
        if (how === "signature") headers["webhook-signature"] = headers["webhook-signature"]!.replace(/.{4}$/, "AAA=");
        if (how === "timestamp") headers["webhook-timestamp"] = String(ts + 1);
        if (how === "drop-signature") delete headers["webhook-signature"];
        if (how === "drop-id") delete headers["webhook-id"];
        if (how === "garbage-signature") headers["x-hub-signature-256"] = "sha256=zz";
        const given = how === "uppercase-names" ? Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v])) : headers;
        const options = { secret, scheme, now: ts };
        expect(await verifyDelivery(given, sent, options)).toEqual(verifyOnNode(given, sent, options));
      }),
      { numRuns: 300 },
    );
  });
});
