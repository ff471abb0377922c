"""A WebhookService client whose every call carries ``authorization: Bearer <api key>``."""

from __future__ import annotations

import collections
from typing import Any, Optional, Sequence, Tuple

import grpc

from hookwire.v1 import webhook_service_pb2_grpc

__all__ = ["Client", "connect"]


class _CallDetails(
    collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
    ),
    grpc.ClientCallDetails,
):
    pass


class _BearerKey(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds the authorization metadata to every call, also on a cleartext channel (which call
    credentials refuse)."""

    def __init__(self, api_key: str) -> None:
        self._header = ("authorization", f"Bearer {api_key}")

    def _details(self, d: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = [m for m in (d.metadata or ()) if m[0].lower() != "authorization"]
        metadata.append(self._header)
        return _CallDetails(
            d.method, d.timeout, metadata, d.credentials,
            getattr(d, "wait_for_ready", None), getattr(d, "compression", None),
        )

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)


class Client(webhook_service_pb2_grpc.WebhookServiceStub):
    """The generated WebhookService stub (Register, Trigger, Sign, Verify, ...) on its own channel.

    Close it when done, or use it as a context manager: ``with connect(addr, key) as client:``.
    """

    def __init__(self, channel: grpc.Channel) -> None:
        super().__init__(channel)
        self.channel = channel

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def connect(
    addr: str,
    api_key: str,
    *,
    credentials: Optional[grpc.ChannelCredentials] = None,
    options: Optional[Sequence[Tuple[str, Any]]] = None,
) -> Client:
    """A client for the Hookwire server at addr ("host:port") that sends the API key with every call.

    The channel is cleartext HTTP/2 (which Hookwire itself speaks) unless credentials are given,
    e.g. ``grpc.ssl_channel_credentials()`` for a server behind TLS; across a network use TLS so
    the key is not sent in the clear. options are gRPC channel options. Like any gRPC channel it
    connects on the first call, which reports an unreachable server (pass ``timeout=`` per call).
    """
    if credentials is None:
        channel = grpc.insecure_channel(addr, options=options)
    else:
        channel = grpc.secure_channel(addr, credentials, options=options)
    # Closing the intercepted channel closes the underlying one.
    return Client(grpc.intercept_channel(channel, _BearerKey(api_key)))
