"""Calls Hookwire over gRPC from Python: registers a subscription, triggers an event, and signs and
verifies every shared test vector. Prints one JSON line at the end; exits 1 on any mismatch.

    PY=$(bash scripts/setup-polyglot.sh)   # a venv with requirements.txt, outside the repo
    HOOKWIRE_API_KEY=... "$PY" examples/python/example.py
"""

import json
import os
import sys
import time
from pathlib import Path

import grpc
from google.protobuf import struct_pb2

from hookwire.v1 import signature_pb2, webhook_service_pb2 as pb, webhook_service_pb2_grpc

DEFAULT_VECTORS = Path(__file__).resolve().parent.parent.parent / "test" / "vectors" / "signatures.json"
TIMEOUT = 10  # seconds per call, so an unreachable server fails instead of hanging


class Mismatch(Exception):
    pass


def sign_and_verify(client, metadata, vector, request, tolerance=0):
    """Signs a vector, checks the signature is the vector's, and checks that Verify accepts it
    for the body and refuses it for a changed body."""
    name = vector["name"]
    signature = client.Sign(request, metadata=metadata, timeout=TIMEOUT).signature
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
            metadata=metadata,
            timeout=TIMEOUT,
        )
        if result.valid != want:
            raise Mismatch(f"Verify {name!r} of {body!r}: valid={result.valid} ({result.reason}), want {want}")
    return signature


def main():
    key = os.environ.get("HOOKWIRE_API_KEY")
    if not key:
        raise Mismatch("HOOKWIRE_API_KEY is required")
    vectors = json.loads(Path(os.environ.get("VECTORS") or DEFAULT_VECTORS).read_text(encoding="utf-8"))
    metadata = (("authorization", f"Bearer {key}"),)

    # Hookwire speaks gRPC over cleartext HTTP/2 (h2c); put TLS in front of it for remote callers.
    with grpc.insecure_channel(os.environ.get("HOOKWIRE_ADDR") or "127.0.0.1:8080") as channel:
        client = webhook_service_pb2_grpc.WebhookServiceStub(channel)

        registered = client.Register(
            pb.RegisterRequest(url=os.environ.get("WEBHOOK_URL") or "https://example.com/hooks", events=["example.*"]),
            metadata=metadata,
            timeout=TIMEOUT,
        )
        subscription_id = registered.subscription.id
        print("subscription:", subscription_id)

        payload = struct_pb2.Value()
        payload.struct_value.update({"from": "python"})
        triggered = client.Trigger(
            pb.TriggerRequest(event="example.created", payload=payload), metadata=metadata, timeout=TIMEOUT
        )
        print("message:", triggered.message_id, "deliveries:", triggered.deliveries)

        signatures = []
        for v in vectors["github"]:
            request = pb.SignRequest(
                body=v["body"].encode(), secret=v["secret"], scheme=signature_pb2.SIGNATURE_SCHEME_GITHUB
            )
            signatures.append(sign_and_verify(client, metadata, v, request))
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
            signatures.append(sign_and_verify(client, metadata, v, request, tolerance))

    print(json.dumps({
        "language": "python",
        "subscription_id": subscription_id,
        "message_id": triggered.message_id,
        "signatures": signatures,
    }, separators=(",", ":")))


if __name__ == "__main__":
    try:
        main()
    except (Mismatch, grpc.RpcError, OSError, ValueError, KeyError) as e:
        detail = f"{e.code().name}: {e.details()}" if isinstance(e, grpc.RpcError) else str(e)
        print(f"error: {detail}", file=sys.stderr)
        sys.exit(1)
