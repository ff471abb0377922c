"""verify_delivery against the shared vectors (test/vectors/signatures.json), which the server's,
the SDK's and the Go module's tests check too."""

import json
import os
import time
import unittest
from pathlib import Path

from hookwire import SCHEME_GITHUB, SCHEME_STANDARD_WEBHOOKS, VerificationError, VerifiedDelivery, verify_delivery

VECTORS = Path(os.environ.get("VECTORS") or Path(__file__).resolve().parents[2] / "test" / "vectors" / "signatures.json")
V = json.loads(VECTORS.read_text(encoding="utf-8"))
OTHER_KEY = "whsec_" + "A" * 43 + "="


def standard_headers(v, signature=None):
    return {
        "webhook-id": v["webhook_id"],
        "webhook-timestamp": str(v["timestamp"]),
        "webhook-signature": v["signature"] if signature is None else signature,
        "x-webhook-event": "order.created",
    }


class RefusalCase(unittest.TestCase):
    def assertRefused(self, reason, *args, **kwargs):
        with self.assertRaises(VerificationError) as cm:
            verify_delivery(*args, **kwargs)
        self.assertIn(reason, cm.exception.reason)
        self.assertIn(reason, str(cm.exception))


class GitHubVectors(RefusalCase):
    def test_vectors(self):
        self.assertTrue(V["github"])
        for v in V["github"]:
            body = v["body"].encode()
            with self.subTest(v["name"]):
                for spelling in ("x-hub-signature-256", "X-Hub-Signature-256", "X-HUB-SIGNATURE-256"):
                    got = verify_delivery({spelling: v["signature"], "X-Webhook-Event": "e"}, body, v["secret"], scheme="github")
                    self.assertEqual(got, VerifiedDelivery(SCHEME_GITHUB, "", "e", None))
                # (name, value) pairs, list values and a str body work too.
                verify_delivery([("X-Hub-Signature-256", v["signature"])], v["body"], v["secret"], scheme="github")
                verify_delivery({"x-hub-signature-256": [v["signature"]]}, bytearray(body), v["secret"], scheme="github")

                h = {"X-Hub-Signature-256": v["signature"]}
                self.assertRefused("signature does not match", h, body + b"!", v["secret"], scheme="github")
                self.assertRefused("signature does not match", h, body, v["secret"] + "x", scheme="github")
                self.assertRefused('does not start with "sha256="', {"x-hub-signature-256": v["signature"][7:]}, body, v["secret"], scheme="github")
                self.assertRefused("not 64 hex digits", {"x-hub-signature-256": v["signature"][:40]}, body, v["secret"], scheme="github")
                self.assertRefused("not 64 hex digits", {"x-hub-signature-256": "sha256=" + "zz" * 32}, body, v["secret"], scheme="github")
                self.assertRefused("x-hub-signature-256 header is missing", {}, body, v["secret"], scheme="github")

    def test_default_for_other_secrets(self):
        v = V["github"][0]  # not a whsec_ secret
        got = verify_delivery({"X-Hub-Signature-256": v["signature"]}, v["body"].encode(), v["secret"])
        self.assertEqual(got.scheme, SCHEME_GITHUB)
        self.assertRefused("secret: must not be empty", {"X-Hub-Signature-256": v["signature"]}, v["body"].encode(), "")


class StandardWebhooksVectors(RefusalCase):
    def test_vectors(self):
        self.assertTrue(V["standard_webhooks"])
        for v in V["standard_webhooks"]:
            body, at, secret = v["body"].encode(), v["timestamp"], v["secret"]
            # During a key rotation the header carries several signatures; any one may match.
            h = standard_headers(v, "v1,bm90IGl0 " + v["signature"])
            with self.subTest(v["name"]):
                got = verify_delivery(h, body, secret, now=at + 240)
                self.assertEqual(got, VerifiedDelivery(SCHEME_STANDARD_WEBHOOKS, v["webhook_id"], "order.created", at))
                mixed = {"Webhook-Id": v["webhook_id"], "WEBHOOK-TIMESTAMP": str(at), "webhook-Signature": v["signature"]}
                self.assertEqual(verify_delivery(mixed, body, secret, now=at).webhook_id, v["webhook_id"])
                verify_delivery(h, body, secret, tolerance_seconds=7200, now=at + 3600)

                self.assertRefused("signature does not match", h, body + b"!", secret, now=at)
                self.assertRefused("signature does not match", h, body, OTHER_KEY, now=at)
                self.assertRefused("timestamp is too old", h, body, secret, now=at + 360)
                self.assertRefused("timestamp is too old", h, body, secret)  # the clock: the vectors are years old
                self.assertRefused("timestamp is too far in the future", h, body, secret, now=at - 360)
                self.assertRefused("signature does not match", {**h, "webhook-id": v["webhook_id"] + "x"}, body, secret, now=at)
                self.assertRefused("signature does not match", {**h, "webhook-timestamp": str(at + 1)}, body, secret, now=at)

                for name, value, reason in (
                    ("webhook-signature", None, "webhook-signature header is missing"),
                    ("webhook-signature", "v2," + v["signature"][3:], 'no "v1," entry'),
                    ("webhook-id", None, "webhook-id header is missing"),
                    ("webhook-timestamp", None, "webhook-timestamp header is missing or not Unix seconds"),
                    ("webhook-timestamp", "2021-02-25T15:02:10Z", "not Unix seconds"),
                    ("webhook-timestamp", "-5", "not Unix seconds"),
                ):
                    changed = {k: val for k, val in standard_headers(v).items() if k != name}
                    if value is not None:
                        changed[name] = value
                    self.assertRefused(reason, changed, body, secret, now=at)
                self.assertRefused('"whsec_" followed by base64', h, body, "whsec_not base64!", now=at)
                # The MAC's base64 with the last character's two unused bits set decodes to the same
                # bytes; like the standardwebhooks libraries, only the canonical text is taken.
                alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                b64 = v["signature"][3:]
                loose = b64[:42] + alphabet[alphabet.index(b64[42]) ^ 1] + "="
                self.assertRefused("signature does not match", standard_headers(v, "v1," + loose), body, secret, now=at)

    def test_now_defaults_to_the_clock(self):
        import base64, hashlib, hmac

        secret = V["standard_webhooks"][0]["secret"]
        key = base64.b64decode(secret[len("whsec_"):])
        ts = int(time.time())
        sig = base64.b64encode(hmac.new(key, f"msg_1.{ts}.{{}}".encode(), hashlib.sha256).digest()).decode()
        got = verify_delivery({"webhook-id": "msg_1", "webhook-timestamp": str(ts), "webhook-signature": "v1," + sig}, b"{}", secret)
        self.assertEqual(got.timestamp, ts)


class NoFallback(RefusalCase):
    """A whsec_ secret never falls back to x-hub-signature-256 (it signs neither id nor time), and
    any other secret never looks at the webhook-* headers."""

    def test_whsec_secret_with_github_signature_only(self):
        g = V["github"][1]  # keyed with a whsec_ secret as written
        self.assertRefused("webhook-signature header is missing", {"X-Hub-Signature-256": g["signature"]}, g["body"].encode(), g["secret"])

    def test_whsec_secret_wrong_standard_right_github(self):
        g, s = V["github"][1], V["standard_webhooks"][1]
        h = {**standard_headers(s, "v1,bm90IGl0"), "x-hub-signature-256": g["signature"]}
        self.assertRefused("signature does not match", h, s["body"].encode(), s["secret"], now=s["timestamp"])

    def test_other_secret_with_standard_headers_only(self):
        s = V["standard_webhooks"][0]
        self.assertRefused("x-hub-signature-256 header is missing", standard_headers(s), s["body"].encode(), V["github"][0]["secret"], now=s["timestamp"])

    def test_unknown_scheme(self):
        s = V["standard_webhooks"][0]
        self.assertRefused("unknown scheme", standard_headers(s), s["body"].encode(), s["secret"], scheme="v2")


if __name__ == "__main__":
    unittest.main()
