// The shared signature module against the vectors and against independent libraries.
import { randomBytes } from "node:crypto";
import { sign as octokitSign, verify as octokitVerify } from "@octokit/webhooks-methods";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  checkStandard,
  generateSecret,
  signGithub,
  signStandard,
  standardWebhooksKey,
  verifyGithub,
  verifyStandard,
} from "@hookwire/sdk/internal";
import { vectors } from "../vectors/index.js";

describe("GitHub style", () => {
  it.each(vectors.github)("matches the vector: $name", (v) => {
    expect(signGithub(v.body, v.secret)).toBe(v.signature);
    expect(signGithub(Buffer.from(v.body), v.secret)).toBe(v.signature);
    expect(verifyGithub(v.body, v.signature, v.secret)).toBe(true);
  });

  it("rejects a changed body, secret or signature", () => {
    const v = vectors.github[0]!;
    expect(verifyGithub(v.body + " ", v.signature, v.secret)).toBe(false);
    expect(verifyGithub(v.body, v.signature, v.secret + "x")).toBe(false);
    expect(verifyGithub(v.body, v.signature.replace(/.$/, "0"), v.secret)).toBe(false);
    expect(verifyGithub(v.body, v.signature.slice(7), v.secret)).toBe(false);
    expect(verifyGithub(v.body, "sha256=zz", v.secret)).toBe(false);
  });

  it("accepts the MAC's hex digits in either case", () => {
    const v = vectors.github[0]!;
    expect(verifyGithub(v.body, "sha256=" + v.signature.slice(7).toUpperCase(), v.secret)).toBe(true);
  });

  it("agrees with @octokit/webhooks-methods on random inputs", async () => {
    for (let i = 0; i < 50; i++) {
      const secret = randomBytes(1 + (i % 40)).toString("base64");
      const body = randomBytes(1 + i * 37).toString("latin1");
      const ours = signGithub(body, secret);
      expect(ours).toBe(await octokitSign(secret, body));
      expect(await octokitVerify(secret, body, ours)).toBe(true);
    }
  });
});

describe("Standard Webhooks", () => {
  it.each(vectors.standard_webhooks)("matches the vector: $name", (v) => {
    expect(signStandard(v.webhook_id, v.timestamp, v.body, v.secret)).toBe(v.signature);
    expect(verifyStandard({ ...v, webhookId: v.webhook_id, now: v.timestamp })).toBe(true);
  });

  it("agrees with the standardwebhooks library both ways", () => {
    for (let i = 0; i < 30; i++) {
      const secret = generateSecret();
      const id = `msg_${randomBytes(8).toString("hex")}`;
      const now = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({ event: "order.created", payload: { i, text: "ü€𝄞" }, timestamp: new Date().toISOString() });
      const lib = new Webhook(secret);
      const ours = signStandard(id, now, body, secret);
      expect(ours).toBe(lib.sign(id, new Date(now * 1000), body));
      const headers = { "webhook-id": id, "webhook-timestamp": String(now), "webhook-signature": ours };
      expect(lib.verify(body, headers)).toEqual(JSON.parse(body));
    }
  });

  it("accepts any of several space-separated signatures (rotation)", () => {
    const v = vectors.standard_webhooks[0]!;
    const other = signStandard(v.webhook_id, v.timestamp, v.body, generateSecret());
    const input = { webhookId: v.webhook_id, timestamp: v.timestamp, body: v.body, secret: v.secret, now: v.timestamp };
    expect(verifyStandard({ ...input, signature: `${other} ${v.signature}` })).toBe(true);
    expect(checkStandard({ ...input, signature: other })).toBe("signature does not match");
    expect(checkStandard({ ...input, signature: "v2,abc" })).toBe('signature has no "v1," entry');
    // Extra spaces, an empty entry and one that is not strict base64 are passed over, not matched.
    expect(verifyStandard({ ...input, signature: `  v1, v1,${v.signature.slice(3)}!  ${v.signature} ` })).toBe(true);
    expect(checkStandard({ ...input, signature: `v1,${v.signature.slice(3)}! v1,` })).toBe("signature does not match");
    expect(checkStandard({ ...input, signature: "" })).toBe('signature has no "v1," entry');
  });

  it("takes an entry only as the MAC's canonical base64, as the standardwebhooks library does", () => {
    const secret = generateSecret();
    const now = Math.floor(Date.now() / 1000);
    const body = '{"event":"order.created"}';
    const b64 = signStandard("msg_1", now, body, secret).slice(3);
    // 32 bytes in 43 characters leave the last one's two low bits unused: set, they decode to the same MAC.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const loose = b64.slice(0, 42) + alphabet[alphabet.indexOf(b64[42]!) ^ 1] + "=";
    expect(Buffer.from(loose, "base64").equals(Buffer.from(b64, "base64"))).toBe(true);
    const lib = new Webhook(secret);
    const headers = (sig: string) => ({ "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": `v1,${sig}` });
    expect(lib.verify(body, headers(b64))).toEqual(JSON.parse(body));
    expect(() => lib.verify(body, headers(loose))).toThrow(/no matching signature/i);
    const input = { webhookId: "msg_1", timestamp: now, body, secret, now };
    expect(checkStandard({ ...input, signature: `v1,${loose}` })).toBe("signature does not match");
    expect(checkStandard({ ...input, signature: `v1,${b64}` })).toBe("");
  });

  it("enforces the timestamp tolerance", () => {
    const v = vectors.standard_webhooks[0]!;
    const input = { webhookId: v.webhook_id, timestamp: v.timestamp, body: v.body, secret: v.secret, signature: v.signature };
    expect(checkStandard({ ...input, now: v.timestamp + 301 })).toBe("timestamp is too old");
    expect(checkStandard({ ...input, now: v.timestamp - 301 })).toBe("timestamp is too far in the future");
    expect(checkStandard({ ...input, now: v.timestamp + 1000, toleranceSeconds: 2000 })).toBe("");
  });

  it("refuses a secret that is not base64 instead of signing with a key nobody derives", () => {
    expect(() => standardWebhooksKey("whsec_not base64!")).toThrow(/secret: .*whsec_/);
    expect(() => signStandard("msg_1", 1, "{}", "whsec_")).toThrow(/secret/);
    expect(() => signStandard("", 1, "{}", generateSecret())).toThrow(/webhook_id/);
  });
});

describe("generateSecret", () => {
  it("is whsec_ + base64 of 32 random bytes", () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(standardWebhooksKey(a)).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
  });
});
