import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PortalColorScheme(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PORTAL_COLOR_SCHEME_UNSPECIFIED: _ClassVar[PortalColorScheme]
    PORTAL_COLOR_SCHEME_LIGHT: _ClassVar[PortalColorScheme]
    PORTAL_COLOR_SCHEME_DARK: _ClassVar[PortalColorScheme]
PORTAL_COLOR_SCHEME_UNSPECIFIED: PortalColorScheme
PORTAL_COLOR_SCHEME_LIGHT: PortalColorScheme
PORTAL_COLOR_SCHEME_DARK: PortalColorScheme

class PortalTheme(_message.Message):
    __slots__ = ("accent_color", "logo_url", "color_scheme", "title")
    ACCENT_COLOR_FIELD_NUMBER: _ClassVar[int]
    LOGO_URL_FIELD_NUMBER: _ClassVar[int]
    COLOR_SCHEME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    accent_color: str
    logo_url: str
    color_scheme: PortalColorScheme
    title: str
    def __init__(self, accent_color: _Optional[str] = ..., logo_url: _Optional[str] = ..., color_scheme: _Optional[_Union[PortalColorScheme, str]] = ..., title: _Optional[str] = ...) -> None: ...

class CreatePortalSessionRequest(_message.Message):
    __slots__ = ("owner", "ttl_seconds", "theme")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    THEME_FIELD_NUMBER: _ClassVar[int]
    owner: str
    ttl_seconds: int
    theme: PortalTheme
    def __init__(self, owner: _Optional[str] = ..., ttl_seconds: _Optional[int] = ..., theme: _Optional[_Union[PortalTheme, _Mapping]] = ...) -> None: ...

class CreatePortalSessionResponse(_message.Message):
    __slots__ = ("token", "url", "expires_at")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    token: str
    url: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, token: _Optional[str] = ..., url: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RevokePortalSessionsRequest(_message.Message):
    __slots__ = ("owner",)
    OWNER_FIELD_NUMBER: _ClassVar[int]
    owner: str
    def __init__(self, owner: _Optional[str] = ...) -> None: ...

class RevokePortalSessionsResponse(_message.Message):
    __slots__ = ("revoked",)
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    revoked: int
    def __init__(self, revoked: _Optional[int] = ...) -> None: ...

class GetPortalSessionRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetPortalSessionResponse(_message.Message):
    __slots__ = ("owner", "expires_at", "theme")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    THEME_FIELD_NUMBER: _ClassVar[int]
    owner: str
    expires_at: _timestamp_pb2.Timestamp
    theme: PortalTheme
    def __init__(self, owner: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., theme: _Optional[_Union[PortalTheme, _Mapping]] = ...) -> None: ...
