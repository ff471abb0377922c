import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Subscription(_message.Message):
    __slots__ = ("id", "url", "events", "description", "created_at", "updated_at", "disabled", "disabled_reason", "retries", "retry_delay_ms", "timeout_ms", "health", "owner", "headers", "rate_limit_per_second")
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
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    DISABLED_REASON_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    RETRY_DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    id: str
    url: str
    events: _containers.RepeatedScalarFieldContainer[str]
    description: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    disabled: bool
    disabled_reason: str
    retries: int
    retry_delay_ms: int
    timeout_ms: int
    health: SubscriptionHealth
    owner: str
    headers: _containers.ScalarMap[str, str]
    rate_limit_per_second: int
    def __init__(self, id: _Optional[str] = ..., url: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., disabled: _Optional[bool] = ..., disabled_reason: _Optional[str] = ..., retries: _Optional[int] = ..., retry_delay_ms: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., health: _Optional[_Union[SubscriptionHealth, _Mapping]] = ..., owner: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., rate_limit_per_second: _Optional[int] = ...) -> None: ...

class SubscriptionHealth(_message.Message):
    __slots__ = ("attempts_succeeded", "attempts_failed", "last_success_at", "last_failure_at", "last_error", "failing_since", "consecutive_failures", "recent_deliveries_succeeded", "recent_deliveries_failed", "recent_window_hours")
    ATTEMPTS_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FAILED_FIELD_NUMBER: _ClassVar[int]
    LAST_SUCCESS_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILURE_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    FAILING_SINCE_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    RECENT_DELIVERIES_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    RECENT_DELIVERIES_FAILED_FIELD_NUMBER: _ClassVar[int]
    RECENT_WINDOW_HOURS_FIELD_NUMBER: _ClassVar[int]
    attempts_succeeded: int
    attempts_failed: int
    last_success_at: _timestamp_pb2.Timestamp
    last_failure_at: _timestamp_pb2.Timestamp
    last_error: str
    failing_since: _timestamp_pb2.Timestamp
    consecutive_failures: int
    recent_deliveries_succeeded: int
    recent_deliveries_failed: int
    recent_window_hours: int
    def __init__(self, attempts_succeeded: _Optional[int] = ..., attempts_failed: _Optional[int] = ..., last_success_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_failure_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., failing_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., consecutive_failures: _Optional[int] = ..., recent_deliveries_succeeded: _Optional[int] = ..., recent_deliveries_failed: _Optional[int] = ..., recent_window_hours: _Optional[int] = ...) -> None: ...
