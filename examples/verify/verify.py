"""Receiver-side checks of a Hookwire delivery's signatures, with Python's standard library only.

Copy the two verify functions into your handler. Running this file is a self-check against the
shared test vectors:

    python3 examples/verify/verify.py [test/vectors/signatures.json]
"""

import base64
import hashlib
import hmac
import json
import sys
import time

# A delivery older or newer than this is refused, so a captured request cannot be replayed later.
TOLERANCE_SECONDS = 5 * 60


def verify_standard_webhook(secret, headers, body, now=None):
    """Checks the webhook-id, webhook-timestamp and webhook-signature headers.

    secret is the subscription's "whsec_..." secret; headers a mapping such as a framework's
    request.headers (or a dict with lower-case names); body the raw request body as bytes."""
    try:
        timestamp = int(headers.get("webhook-timestamp", ""))
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        return False
    msg_id = headers.get("webhook-id", "")
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = b"v1," + base64.b64encode(digest)
    # The header may carry several space-separated signatures (during key rotation); any may match.
    return any(hmac.compare_digest(sig.encode(), expected) for sig in headers.get("webhook-signature", "").split())


def verify_github(secret, signature, body):
    """Checks the x-hub-signature-256 header: "sha256=" + hex(HMAC-SHA256(secret, body)),
    keyed with the secret string as written."""
    expected = b"sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(signature.encode(), expected)


def self_check(path):
    with open(path, encoding="utf-8") as f:
        vectors = json.load(f)
    failures = []

    def check(name, got, want):
        if got != want:
            failures.append(f"FAIL {name}: got {got}, want {want}")

    for v in vectors["github"]:
        body = v["body"].encode()
        check(v["name"], verify_github(v["secret"], v["signature"], body), True)
        check(v["name"] + " (changed body)", verify_github(v["secret"], v["signature"], body + b"!"), False)
    for v in vectors["standard_webhooks"]:
        body, at = v["body"].encode(), v["timestamp"]
        headers = {
            "webhook-id": v["webhook_id"],
            "webhook-timestamp": str(at),
            "webhook-signature": "v1,bm90IGl0 " + v["signature"],
        }
        check(v["name"], verify_standard_webhook(v["secret"], headers, body, now=at + 240), True)
        check(v["name"] + " (changed body)", verify_standard_webhook(v["secret"], headers, body + b"!", now=at), False)
        check(v["name"] + " (too old)", verify_standard_webhook(v["secret"], headers, body, now=at + 360), False)
        check(v["name"] + " (too new)", verify_standard_webhook(v["secret"], headers, body, now=at - 360), False)
        other = {**headers, "webhook-id": v["webhook_id"] + "x"}
        check(v["name"] + " (other id)", verify_standard_webhook(v["secret"], other, body, now=at), False)
    if failures:
        sys.exit("\n".join(failures))
    print(f"ok: {len(vectors['github'])} GitHub and {len(vectors['standard_webhooks'])} Standard Webhooks vectors")


if __name__ == "__main__":
    self_check(sys.argv[1] if len(sys.argv) > 1 else "test/vectors/signatures.json")
