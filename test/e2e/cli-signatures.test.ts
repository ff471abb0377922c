// `hookwire sign` and `hookwire verify`, run through the bin: local (no server, no key), both schemes,
// checked against the shared test vectors and the independent standardwebhooks library.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { runCli, runCliJson } from "../helpers/cli.js";
import { vectors } from "../vectors/index.js";

vi.setConfig({ testTimeout: 60_000 });

describe("sign", () => {
  it("GitHub style (the default), from --body, @file and stdin, gives the vectors' signatures", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookwire-cli-sign-"));
    for (const v of vectors.github) {
      const file = join(dir, "body");
      writeFileSync(file, v.body);
      const [inline, fromFile, fromStdin] = await Promise.all([
        runCli(["sign", "--secret", v.secret, "--body", v.body]),
        runCli(["sign", "--secret", v.secret, "--body", `@${file}`]),
        runCli(["sign", "--secret", v.secret], { input: v.body }),
      ]);
      for (const r of [inline, fromFile, fromStdin]) expect(r, v.name).toMatchObject({ code: 0, stdout: `${v.signature}\n`, stderr: "" });
    }
  });

  it("Standard Webhooks with --id and --timestamp gives the vectors' signatures; --json names the inputs", async () => {
    for (const v of vectors.standard_webhooks) {
      const r = await runCliJson(["sign", "--scheme", "standard-webhooks", "--secret", v.secret, "--id", v.webhook_id, "--timestamp", String(v.timestamp)], { input: v.body });
      expect(r, v.name).toEqual({ scheme: "standard-webhooks", signature: v.signature, webhookId: v.webhook_id, timestamp: v.timestamp });
    }
  });

  it("Standard Webhooks without --timestamp signs now, which standardwebhooks accepts", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const body = '{"event":"a.b","payload":1,"timestamp":"2026-01-01T00:00:00.000Z"}';
    const r = await runCliJson(["sign", "--scheme", "standard-webhooks", "--secret", secret, "--id", "msg_1", "--body", body]);
    expect(Math.abs(r.timestamp - Date.now() / 1000)).toBeLessThan(60);
    expect(() =>
      new Webhook(secret).verify(body, { "webhook-id": "msg_1", "webhook-timestamp": String(r.timestamp), "webhook-signature": r.signature }),
    ).not.toThrow();
  });

  it("refuses what cannot be signed as usage errors (2), one line naming the flag", async () => {
    const noId = await runCli(["sign", "--scheme", "standard-webhooks", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--body", "x"]);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toMatch(/^hookwire: --id: Standard Webhooks signs the webhook id/);
    const badSecret = await runCli(["sign", "--scheme", "standard-webhooks", "--secret", "whsec_not base64!", "--id", "m", "--body", "x"]);
    expect(badSecret.code).toBe(2);
    expect(badSecret.stderr).toMatch(/^hookwire: --secret: for the Standard Webhooks scheme it must be "whsec_" followed by base64\n$/);
    const noFile = await runCli(["sign", "--secret", "s", "--body", "@/nonexistent/body"]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toBe("hookwire: --body: cannot read /nonexistent/body: ENOENT\n");
    const scheme = await runCli(["sign", "--secret", "s", "--body", "x", "--scheme", "md5"]);
    expect(scheme.code).toBe(2);
  });
});

describe("verify", () => {
  it("accepts the vectors in both schemes, telling the scheme from the signature; exit 0", async () => {
    const g = vectors.github[0]!;
    const s = vectors.standard_webhooks[0]!;
    const [gh, std] = await Promise.all([
      runCli(["verify", "--secret", g.secret, "--signature", g.signature, "--body", g.body]),
      // The vector is from 2021: a tolerance that reaches it.
      runCli(["verify", "--secret", s.secret, "--signature", s.signature, "--id", s.webhook_id, "--timestamp", String(s.timestamp), "--tolerance", String(10 * 365 * 86400)], { input: s.body }),
    ]);
    expect(gh).toMatchObject({ code: 0, stdout: "valid (github)\n" });
    expect(std).toMatchObject({ code: 0, stdout: "valid (standard-webhooks)\n" });
  });

  it("a changed body, a wrong secret or an old timestamp exits 1 and says why; --json too", async () => {
    const g = vectors.github[0]!;
    const s = vectors.standard_webhooks[0]!;
    const [tampered, wrongSecret, stale, staleJson] = await Promise.all([
      runCli(["verify", "--secret", g.secret, "--signature", g.signature, "--body", g.body + " "]),
      runCli(["verify", "--secret", "another", "--signature", g.signature, "--body", g.body, "--json"]),
      runCli(["verify", "--secret", s.secret, "--signature", s.signature, "--id", s.webhook_id, "--timestamp", String(s.timestamp)], { input: s.body }),
      runCli(["verify", "--json", "--scheme", "standard-webhooks", "--secret", s.secret, "--signature", s.signature, "--id", s.webhook_id, "--timestamp", String(s.timestamp)], { input: s.body }),
    ]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/^invalid \(github\): \S.*\n$/);
    expect(wrongSecret.code).toBe(1);
    expect(JSON.parse(wrongSecret.stdout)).toMatchObject({ scheme: "github", valid: false });
    expect(JSON.parse(wrongSecret.stdout).reason).not.toBe("");
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(/^invalid \(standard-webhooks\): .*tim/i);
    expect(staleJson.code).toBe(1);
    expect(JSON.parse(staleJson.stdout)).toMatchObject({ scheme: "standard-webhooks", valid: false });
  });

  it("--scheme github on a v1, signature does not quietly pass, and Standard Webhooks needs --timestamp", async () => {
    const s = vectors.standard_webhooks[0]!;
    const forced = await runCli(["verify", "--scheme", "github", "--secret", s.secret, "--signature", s.signature, "--body", s.body]);
    expect(forced.code).toBe(1);
    const noTime = await runCli(["verify", "--secret", s.secret, "--signature", s.signature, "--id", s.webhook_id, "--body", s.body]);
    expect(noTime.code).toBe(2);
    expect(noTime.stderr).toMatch(/^hookwire: --timestamp: /);
  });
});
