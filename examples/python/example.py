"""Calls Hookwire over gRPC from Python with the hookwire package: registers a subscription,
triggers an event, opens a customer portal session, and signs and verifies every shared test
vector. Prints one JSON line at the end; exits 1 on any mismatch.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install ./python   # the package, from a clone
    HOOKWIRE_API_KEY=... /tmp/venv/bin/python examples/python/example.py
"""

import json
import os
import sys
import time
from pathlib import Path

import grpc
from google.protobuf import struct_pb2

import hookwire
from hookwire.v1 import portal_pb2, signature_pb2, webhook_service_pb2 as pb

DEFAULT_VECTORS = Path(__file__).resolve().parent.parent.parent / "test" / "vectors" / "signatures.json"
TIMEOUT = 10  # seconds per call, so an unreachable server fails instead of hanging


class Mismatch(Exception):
    pass


def sign_and_verify(client, vector, request, tolerance=0):
    """Signs a vector, checks the signature is the vector's, checks that Verify accepts it for the
    body and refuses it for a changed body, and that a receiver's hookwire.verify_delivery accepts
    it in delivery headers."""
    name = vector["name"]
    signature = client.Sign(request, timeout=TIMEOUT).signature
    if signature != vector["signature"]:
        raise Mismatch(f"Sign {name!r}: got {signature}, want {vector['signature']}")
    for body, want in ((request.body, True), (request.body + b"!", False)):
        result = client.Verify(
            pb.VerifyRequest(
                body=body,
                signature=signature,
                secret=request.secret,
                scheme=request.scheme,
                webhook_id=request.webhook_id,
                timestamp=request.timestamp,
                tolerance_seconds=tolerance,
            ),
            timeout=TIMEOUT,
        )
        if result.valid != want:
            raise Mismatch(f"Verify {name!r} of {body!r}: valid={result.valid} ({result.reason}), want {want}")

    if request.scheme == signature_pb2.SIGNATURE_SCHEME_STANDARD_WEBHOOKS:
        headers = {"Webhook-Id": request.webhook_id, "Webhook-Timestamp": str(request.timestamp), "Webhook-Signature": signature}
        options = {"scheme": hookwire.SCHEME_STANDARD_WEBHOOKS, "now": request.timestamp}
    else:
        headers, options = {"X-Hub-Signature-256": signature}, {"scheme": hookwire.SCHEME_GITHUB}
    try:
        hookwire.verify_delivery(headers, request.body, request.secret, **options)
    except hookwire.VerificationError as e:
        raise Mismatch(f"verify_delivery {name!r}: {e}") from e
    return signature


def main():
    key = os.environ.get("HOOKWIRE_API_KEY")
    if not key:
        raise Mismatch("HOOKWIRE_API_KEY is required")
    vectors = json.loads(Path(os.environ.get("VECTORS") or DEFAULT_VECTORS).read_text(encoding="utf-8"))

    # Hookwire speaks gRPC over cleartext HTTP/2 (h2c), which connect uses unless given
    # credentials; put TLS in front of it for remote callers. The key goes with every call.
    with hookwire.connect(os.environ.get("HOOKWIRE_ADDR") or "127.0.0.1:8080", key) as client:
        # A customer's own endpoint (owner: your id for the customer). By default loopback where nothing
        # listens: the delivery this run triggers never leaves the machine.
        registered = client.Register(
            pb.RegisterRequest(
                url=os.environ.get("WEBHOOK_URL") or "http://127.0.0.1:9/hooks", events=["example.*"], owner="customer-42"
            ),
            timeout=TIMEOUT,
        )
        subscription_id = registered.subscription.id
        print("subscription:", subscription_id)

        payload = struct_pb2.Value()
        payload.struct_value.update({"from": "python"})
        # For that customer: only its endpoints receive it.
        triggered = client.Trigger(
            pb.TriggerRequest(event="example.created", payload=payload, owner="customer-42"), timeout=TIMEOUT
        )
        print("message:", triggered.message_id, "deliveries:", triggered.deliveries)

        # The customer portal for that customer (for the user signed in to your site): put the url in
        # an iframe, and they manage their own endpoints there for an hour (ttl_seconds: up to a day).
        portal = client.CreatePortalSession(portal_pb2.CreatePortalSessionRequest(owner="customer-42"), timeout=TIMEOUT)
        print("portal:", portal.url)

        signatures = []
        for v in vectors["github"]:
            request = pb.SignRequest(
                body=v["body"].encode(), secret=v["secret"], scheme=signature_pb2.SIGNATURE_SCHEME_GITHUB
            )
            signatures.append(sign_and_verify(client, v, request))
        for v in vectors["standard_webhooks"]:
            request = pb.SignRequest(
                body=v["body"].encode(),
                secret=v["secret"],
                scheme=signature_pb2.SIGNATURE_SCHEME_STANDARD_WEBHOOKS,
                webhook_id=v["webhook_id"],
                timestamp=v["timestamp"],
            )
            # The vectors' timestamps are old; the tolerance must reach back to them.
            tolerance = int(time.time()) - v["timestamp"] + 60
            signatures.append(sign_and_verify(client, v, request, tolerance))

    print(json.dumps({
        "language": "python",
        "subscription_id": subscription_id,
        "message_id": triggered.message_id,
        "portal_url": portal.url,
        "signatures": signatures,
    }, separators=(",", ":")))


if __name__ == "__main__":
    try:
        main()
    except (Mismatch, grpc.RpcError, OSError, ValueError, KeyError) as e:
        detail = f"{e.code().name}: {e.details()}" if isinstance(e, grpc.RpcError) else str(e)
        print(f"error: {detail}", file=sys.stderr)
        sys.exit(1)
