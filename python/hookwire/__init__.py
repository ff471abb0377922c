"""Hookwire's Python client: the generated gRPC code (``hookwire.v1``), ``connect`` for an
authenticated client, and ``verify_delivery`` for receivers."""

from hookwire.client import Client, connect
from hookwire.verify import (
    DEFAULT_TOLERANCE_SECONDS,
    SCHEME_GITHUB,
    SCHEME_STANDARD_WEBHOOKS,
    VerificationError,
    VerifiedDelivery,
    verify_delivery,
)

__version__ = "0.1.0"

__all__ = [
    "Client",
    "connect",
    "DEFAULT_TOLERANCE_SECONDS",
    "SCHEME_GITHUB",
    "SCHEME_STANDARD_WEBHOOKS",
    "VerificationError",
    "VerifiedDelivery",
    "verify_delivery",
]
