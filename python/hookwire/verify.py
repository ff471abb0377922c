"""Verifying an incoming Hookwire delivery on the receiving side, from its headers and raw body.

Standard library only. Two schemes, of which exactly one is checked (never the other as a fallback):

* Standard Webhooks (the default for a ``whsec_`` secret): ``webhook-id``, ``webhook-timestamp`` and
  ``webhook-signature`` = space-separated ``v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>``
  entries, key = the base64-decoded part after ``whsec_``; the timestamp must be within the tolerance.
* GitHub style (the default for any other secret): ``x-hub-signature-256`` =
  ``sha256=<hex(HMAC-SHA256(secret as written, body))>``. It signs neither id nor time: no replay
  protection, dedupe on ``webhook-id`` yourself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Tuple, Union

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "SCHEME_GITHUB",
    "SCHEME_STANDARD_WEBHOOKS",
    "VerificationError",
    "VerifiedDelivery",
    "verify_delivery",
]

SCHEME_STANDARD_WEBHOOKS = "standard-webhooks"
SCHEME_GITHUB = "github"
DEFAULT_TOLERANCE_SECONDS = 300

_SECRET_PREFIX = "whsec_"
_GITHUB_PREFIX = "sha256="
_STANDARD_PREFIX = "v1,"
_STRICT_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
_UNIX_SECONDS = re.compile(r"^[0-9]+$")

Headers = Union[Mapping[str, Any], Iterable[Tuple[str, Any]]]


class VerificationError(Exception):
    """The delivery was refused; ``reason`` says why, ``scheme`` which scheme was checked."""

    def __init__(self, scheme: str, reason: str) -> None:
        super().__init__(f"delivery not verified ({scheme}): {reason}")
        self.scheme = scheme
        self.reason = reason


@dataclass(frozen=True)
class VerifiedDelivery:
    """What verify_delivery found in a delivery it accepted."""

    scheme: str
    #: The webhook-id header: the message's id, the same on every retry, for deduping.
    webhook_id: str
    #: The x-webhook-event header.
    event: str
    #: webhook-timestamp in Unix seconds (Standard Webhooks only; None for GitHub style).
    timestamp: Optional[int]


def _header_getter(headers: Headers):
    """Header names are case-insensitive: a dict may spell them "Webhook-Id" or "webhook-id"."""
    items = headers.items() if hasattr(headers, "items") else headers
    by_name: dict = {}
    for name, value in items:
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if value is not None:
            by_name.setdefault(str(name).lower(), str(value))
    return lambda name: by_name.get(name, "")


def verify_delivery(
    headers: Headers,
    body: Union[bytes, bytearray, memoryview, str],
    secret: str,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: Optional[float] = None,
    *,
    scheme: Optional[str] = None,
) -> VerifiedDelivery:
    """Checks a delivery's signature; returns what it found or raises VerificationError saying why.

    headers: any mapping of header names to values (a framework's request.headers, a dict in any
    case), or (name, value) pairs; names are matched case-insensitively. body: the raw request body,
    before any JSON parsing (re-encoded JSON does not match); a str is taken as UTF-8. secret: the
    subscription's secret. tolerance_seconds: how far webhook-timestamp may be from now (default
    300; 0 or less means the default). now: Unix seconds to check against (default the clock).
    scheme: "standard-webhooks" or "github" to check that one only; default: Standard Webhooks for
    a "whsec_" secret, GitHub style for any other.
    """
    if scheme is None:
        scheme = SCHEME_STANDARD_WEBHOOKS if secret.startswith(_SECRET_PREFIX) else SCHEME_GITHUB
    get = _header_getter(headers)
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    webhook_id, event = get("webhook-id"), get("x-webhook-event")

    def refuse(reason: str) -> VerificationError:
        return VerificationError(scheme, reason)

    if scheme == SCHEME_GITHUB:
        signature = get("x-hub-signature-256")
        if not signature:
            raise refuse("x-hub-signature-256 header is missing")
        reason = _check_github(raw, signature, secret)
        if reason:
            raise refuse(reason)
        return VerifiedDelivery(scheme, webhook_id, event, None)
    if scheme != SCHEME_STANDARD_WEBHOOKS:
        raise refuse('unknown scheme (want "standard-webhooks" or "github")')

    signature = get("webhook-signature")
    if not signature:
        raise refuse("webhook-signature header is missing")
    if not webhook_id:
        raise refuse("webhook-id header is missing")
    ts = get("webhook-timestamp").strip()
    if not _UNIX_SECONDS.match(ts) or int(ts) <= 0:
        raise refuse("webhook-timestamp header is missing or not Unix seconds")
    timestamp = int(ts)
    reason = _check_standard(webhook_id, timestamp, raw, signature, secret, tolerance_seconds, now)
    if reason:
        raise refuse(reason)
    return VerifiedDelivery(scheme, webhook_id, event, timestamp)


def _check_github(body: bytes, signature: str, secret: str) -> str:
    if not secret:
        return "secret: must not be empty"
    if not signature.startswith(_GITHUB_PREFIX):
        return 'signature does not start with "sha256="'
    try:
        given = bytes.fromhex(signature[len(_GITHUB_PREFIX):])
    except ValueError:
        given = b""
    if len(given) != 32:
        return "signature is not 64 hex digits"
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return "" if hmac.compare_digest(given, expected) else "signature does not match"


def _check_standard(
    webhook_id: str, timestamp: int, body: bytes, signature: str, secret: str,
    tolerance_seconds: float, now: Optional[float],
) -> str:
    encoded = secret[len(_SECRET_PREFIX):] if secret.startswith(_SECRET_PREFIX) else secret
    if not encoded or not _STRICT_BASE64.match(encoded):
        return 'secret: for the Standard Webhooks scheme it must be "whsec_" followed by base64'
    key = base64.b64decode(encoded)
    tolerance = tolerance_seconds if tolerance_seconds and tolerance_seconds > 0 else DEFAULT_TOLERANCE_SECONDS
    current = int(time.time()) if now is None else now
    if timestamp < current - tolerance:
        return "timestamp is too old"
    if timestamp > current + tolerance:
        return "timestamp is too far in the future"
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode("utf-8") + body, hashlib.sha256).digest()
    # Compared as text with the MAC's canonical base64, as the standardwebhooks libraries compare (and
    # Hookwire's TypeScript verifier): a text that decodes to the MAC but is not its encoding is refused.
    expected = base64.b64encode(digest)
    # The header may carry several space-separated signatures (during key rotation); any may match.
    saw_v1 = False
    for entry in signature.split():
        if not entry.startswith(_STANDARD_PREFIX):
            continue
        saw_v1 = True
        if hmac.compare_digest(entry[len(_STANDARD_PREFIX):].encode("utf-8"), expected):
            return ""
    return "signature does not match" if saw_v1 else 'signature has no "v1," entry'
