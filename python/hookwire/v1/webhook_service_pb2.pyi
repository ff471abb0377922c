import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hookwire.v1 import delivery_pb2 as _delivery_pb2
from hookwire.v1 import event_type_pb2 as _event_type_pb2
from hookwire.v1 import portal_pb2 as _portal_pb2
from hookwire.v1 import signature_pb2 as _signature_pb2
from hookwire.v1 import subscription_pb2 as _subscription_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIST_ORDER_UNSPECIFIED: _ClassVar[ListOrder]
    LIST_ORDER_OLDEST_FIRST: _ClassVar[ListOrder]
    LIST_ORDER_NEWEST_FIRST: _ClassVar[ListOrder]
LIST_ORDER_UNSPECIFIED: ListOrder
LIST_ORDER_OLDEST_FIRST: ListOrder
LIST_ORDER_NEWEST_FIRST: ListOrder

class SendTestEventRequest(_message.Message):
    __slots__ = ("subscription_id", "event", "payload")
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    event: str
    payload: _struct_pb2.Struct
    def __init__(self, subscription_id: _Optional[str] = ..., event: _Optional[str] = ..., payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SendTestEventResponse(_message.Message):
    __slots__ = ("message_id", "delivery")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    delivery: _delivery_pb2.Delivery
    def __init__(self, message_id: _Optional[str] = ..., delivery: _Optional[_Union[_delivery_pb2.Delivery, _Mapping]] = ...) -> None: ...

class RegisterRequest(_message.Message):
    __slots__ = ("url", "events", "secret", "description", "retries", "retry_delay_ms", "timeout_ms", "owner", "headers", "rate_limit_per_second")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    RETRY_DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    url: str
    events: _containers.RepeatedScalarFieldContainer[str]
    secret: str
    description: str
    retries: int
    retry_delay_ms: int
    timeout_ms: int
    owner: str
    headers: _containers.ScalarMap[str, str]
    rate_limit_per_second: int
    def __init__(self, url: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., secret: _Optional[str] = ..., description: _Optional[str] = ..., retries: _Optional[int] = ..., retry_delay_ms: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., owner: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., rate_limit_per_second: _Optional[int] = ...) -> None: ...

class RegisterResponse(_message.Message):
    __slots__ = ("subscription", "secret")
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    subscription: _subscription_pb2.Subscription
    secret: str
    def __init__(self, subscription: _Optional[_Union[_subscription_pb2.Subscription, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class GetSubscriptionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetSubscriptionResponse(_message.Message):
    __slots__ = ("subscription",)
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: _subscription_pb2.Subscription
    def __init__(self, subscription: _Optional[_Union[_subscription_pb2.Subscription, _Mapping]] = ...) -> None: ...

class ListSubscriptionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "owner", "order")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    owner: str
    order: ListOrder
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., owner: _Optional[str] = ..., order: _Optional[_Union[ListOrder, str]] = ...) -> None: ...

class ListSubscriptionsResponse(_message.Message):
    __slots__ = ("subscriptions", "next_page_token")
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[_subscription_pb2.Subscription]
    next_page_token: str
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[_subscription_pb2.Subscription, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateSubscriptionRequest(_message.Message):
    __slots__ = ("id", "url", "events", "description", "disabled", "retries", "retry_delay_ms", "timeout_ms", "headers", "clear_headers", "rate_limit_per_second")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    RETRY_DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    CLEAR_HEADERS_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    id: str
    url: str
    events: _containers.RepeatedScalarFieldContainer[str]
    description: str
    disabled: bool
    retries: int
    retry_delay_ms: int
    timeout_ms: int
    headers: _containers.ScalarMap[str, str]
    clear_headers: bool
    rate_limit_per_second: int
    def __init__(self, id: _Optional[str] = ..., url: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., disabled: _Optional[bool] = ..., retries: _Optional[int] = ..., retry_delay_ms: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., headers: _Optional[_Mapping[str, str]] = ..., clear_headers: _Optional[bool] = ..., rate_limit_per_second: _Optional[int] = ...) -> None: ...

class UpdateSubscriptionResponse(_message.Message):
    __slots__ = ("subscription",)
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: _subscription_pb2.Subscription
    def __init__(self, subscription: _Optional[_Union[_subscription_pb2.Subscription, _Mapping]] = ...) -> None: ...

class DeleteSubscriptionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteSubscriptionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RotateSecretRequest(_message.Message):
    __slots__ = ("id", "secret", "previous_secret_ttl_seconds")
    ID_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_SECRET_TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    secret: str
    previous_secret_ttl_seconds: int
    def __init__(self, id: _Optional[str] = ..., secret: _Optional[str] = ..., previous_secret_ttl_seconds: _Optional[int] = ...) -> None: ...

class RotateSecretResponse(_message.Message):
    __slots__ = ("subscription", "secret")
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    subscription: _subscription_pb2.Subscription
    secret: str
    def __init__(self, subscription: _Optional[_Union[_subscription_pb2.Subscription, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class SignRequest(_message.Message):
    __slots__ = ("body", "secret", "scheme", "webhook_id", "timestamp")
    BODY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    body: bytes
    secret: str
    scheme: _signature_pb2.SignatureScheme
    webhook_id: str
    timestamp: int
    def __init__(self, body: _Optional[bytes] = ..., secret: _Optional[str] = ..., scheme: _Optional[_Union[_signature_pb2.SignatureScheme, str]] = ..., webhook_id: _Optional[str] = ..., timestamp: _Optional[int] = ...) -> None: ...

class SignResponse(_message.Message):
    __slots__ = ("signature",)
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    signature: str
    def __init__(self, signature: _Optional[str] = ...) -> None: ...

class VerifyRequest(_message.Message):
    __slots__ = ("body", "signature", "secret", "scheme", "webhook_id", "timestamp", "tolerance_seconds")
    BODY_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TOLERANCE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    body: bytes
    signature: str
    secret: str
    scheme: _signature_pb2.SignatureScheme
    webhook_id: str
    timestamp: int
    tolerance_seconds: int
    def __init__(self, body: _Optional[bytes] = ..., signature: _Optional[str] = ..., secret: _Optional[str] = ..., scheme: _Optional[_Union[_signature_pb2.SignatureScheme, str]] = ..., webhook_id: _Optional[str] = ..., timestamp: _Optional[int] = ..., tolerance_seconds: _Optional[int] = ...) -> None: ...

class VerifyResponse(_message.Message):
    __slots__ = ("valid", "reason")
    VALID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    reason: str
    def __init__(self, valid: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class TriggerRequest(_message.Message):
    __slots__ = ("event", "payload", "idempotency_key", "owner", "all_owners")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ALL_OWNERS_FIELD_NUMBER: _ClassVar[int]
    event: str
    payload: _struct_pb2.Value
    idempotency_key: str
    owner: str
    all_owners: bool
    def __init__(self, event: _Optional[str] = ..., payload: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., owner: _Optional[str] = ..., all_owners: _Optional[bool] = ...) -> None: ...

class TriggerResponse(_message.Message):
    __slots__ = ("message_id", "deliveries")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    deliveries: int
    def __init__(self, message_id: _Optional[str] = ..., deliveries: _Optional[int] = ...) -> None: ...

class WebhookPayload(_message.Message):
    __slots__ = ("event", "payload", "timestamp")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    event: str
    payload: _struct_pb2.Value
    timestamp: str
    def __init__(self, event: _Optional[str] = ..., payload: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., timestamp: _Optional[str] = ...) -> None: ...

class SendRequest(_message.Message):
    __slots__ = ("url", "payload", "secret", "retries", "retry_delay_ms", "timeout_ms", "idempotency_key")
    URL_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    RETRY_DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    url: str
    payload: WebhookPayload
    secret: str
    retries: int
    retry_delay_ms: int
    timeout_ms: int
    idempotency_key: str
    def __init__(self, url: _Optional[str] = ..., payload: _Optional[_Union[WebhookPayload, _Mapping]] = ..., secret: _Optional[str] = ..., retries: _Optional[int] = ..., retry_delay_ms: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class SendResponse(_message.Message):
    __slots__ = ("message_id", "delivery")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    delivery: _delivery_pb2.Delivery
    def __init__(self, message_id: _Optional[str] = ..., delivery: _Optional[_Union[_delivery_pb2.Delivery, _Mapping]] = ...) -> None: ...

class GetMessageRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetMessageResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: _delivery_pb2.Message
    def __init__(self, message: _Optional[_Union[_delivery_pb2.Message, _Mapping]] = ...) -> None: ...

class ListDeliveriesRequest(_message.Message):
    __slots__ = ("message_id", "subscription_id", "status", "page_size", "page_token", "owner", "order")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    subscription_id: str
    status: _delivery_pb2.DeliveryStatus
    page_size: int
    page_token: str
    owner: str
    order: ListOrder
    def __init__(self, message_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., status: _Optional[_Union[_delivery_pb2.DeliveryStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., owner: _Optional[str] = ..., order: _Optional[_Union[ListOrder, str]] = ...) -> None: ...

class ListDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries", "next_page_token")
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[_delivery_pb2.Delivery]
    next_page_token: str
    def __init__(self, deliveries: _Optional[_Iterable[_Union[_delivery_pb2.Delivery, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RedeliverRequest(_message.Message):
    __slots__ = ("delivery_id",)
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    def __init__(self, delivery_id: _Optional[str] = ...) -> None: ...

class RedeliverResponse(_message.Message):
    __slots__ = ("delivery",)
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    delivery: _delivery_pb2.Delivery
    def __init__(self, delivery: _Optional[_Union[_delivery_pb2.Delivery, _Mapping]] = ...) -> None: ...

class RecoverDeliveriesRequest(_message.Message):
    __slots__ = ("subscription_id", "since", "limit", "page_token")
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    since: _timestamp_pb2.Timestamp
    limit: int
    page_token: str
    def __init__(self, subscription_id: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class RecoverDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries", "next_page_token")
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[_delivery_pb2.Delivery]
    next_page_token: str
    def __init__(self, deliveries: _Optional[_Iterable[_Union[_delivery_pb2.Delivery, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchDeliveriesRequest(_message.Message):
    __slots__ = ("subscription_id", "owner")
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    owner: str
    def __init__(self, subscription_id: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class WatchDeliveriesResponse(_message.Message):
    __slots__ = ("delivery",)
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    delivery: _delivery_pb2.Delivery
    def __init__(self, delivery: _Optional[_Union[_delivery_pb2.Delivery, _Mapping]] = ...) -> None: ...

class CreateEventTypeRequest(_message.Message):
    __slots__ = ("name", "description", "schema", "example")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    schema: _struct_pb2.Struct
    example: _struct_pb2.Value
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., example: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class CreateEventTypeResponse(_message.Message):
    __slots__ = ("event_type",)
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    event_type: _event_type_pb2.EventType
    def __init__(self, event_type: _Optional[_Union[_event_type_pb2.EventType, _Mapping]] = ...) -> None: ...

class GetEventTypeRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetEventTypeResponse(_message.Message):
    __slots__ = ("event_type",)
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    event_type: _event_type_pb2.EventType
    def __init__(self, event_type: _Optional[_Union[_event_type_pb2.EventType, _Mapping]] = ...) -> None: ...

class ListEventTypesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEventTypesResponse(_message.Message):
    __slots__ = ("event_types", "next_page_token")
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    event_types: _containers.RepeatedCompositeFieldContainer[_event_type_pb2.EventType]
    next_page_token: str
    def __init__(self, event_types: _Optional[_Iterable[_Union[_event_type_pb2.EventType, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateEventTypeRequest(_message.Message):
    __slots__ = ("name", "description", "schema", "example")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    schema: _struct_pb2.Struct
    example: _struct_pb2.Value
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., example: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class UpdateEventTypeResponse(_message.Message):
    __slots__ = ("event_type",)
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    event_type: _event_type_pb2.EventType
    def __init__(self, event_type: _Optional[_Union[_event_type_pb2.EventType, _Mapping]] = ...) -> None: ...

class DeleteEventTypeRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteEventTypeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
