import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SnapshotMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SNAPSHOT_MODE_UNSPECIFIED: _ClassVar[SnapshotMode]
    SNAPSHOT_MODE_POINT_IN_TIME: _ClassVar[SnapshotMode]
    SNAPSHOT_MODE_UPLOAD: _ClassVar[SnapshotMode]

class SnapshotState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SNAPSHOT_STATE_UNSPECIFIED: _ClassVar[SnapshotState]
    SNAPSHOT_STATE_PENDING: _ClassVar[SnapshotState]
    SNAPSHOT_STATE_COMPLETED: _ClassVar[SnapshotState]

class Compression(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPRESSION_UNSPECIFIED: _ClassVar[Compression]
    COMPRESSION_NONE: _ClassVar[Compression]
    COMPRESSION_ZSTD: _ClassVar[Compression]
SNAPSHOT_MODE_UNSPECIFIED: SnapshotMode
SNAPSHOT_MODE_POINT_IN_TIME: SnapshotMode
SNAPSHOT_MODE_UPLOAD: SnapshotMode
SNAPSHOT_STATE_UNSPECIFIED: SnapshotState
SNAPSHOT_STATE_PENDING: SnapshotState
SNAPSHOT_STATE_COMPLETED: SnapshotState
COMPRESSION_UNSPECIFIED: Compression
COMPRESSION_NONE: Compression
COMPRESSION_ZSTD: Compression

class Volume(_message.Message):
    __slots__ = ("volume_id", "size_bytes", "chunk_size", "source_snapshot_id", "open_version", "created_at", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    size_bytes: int
    chunk_size: int
    source_snapshot_id: str
    open_version: int
    created_at: _timestamp_pb2.Timestamp
    labels: _containers.ScalarMap[str, str]
    def __init__(self, volume_id: _Optional[str] = ..., size_bytes: _Optional[int] = ..., chunk_size: _Optional[int] = ..., source_snapshot_id: _Optional[str] = ..., open_version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("snapshot_id", "volume_id", "version", "mode", "state", "progress", "size_bytes", "chunk_size", "parent_snapshot_id", "description", "created_at", "completed_at", "labels", "owner_account_id")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    PARENT_SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    OWNER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    volume_id: str
    version: int
    mode: SnapshotMode
    state: SnapshotState
    progress: float
    size_bytes: int
    chunk_size: int
    parent_snapshot_id: str
    description: str
    created_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    labels: _containers.ScalarMap[str, str]
    owner_account_id: str
    def __init__(self, snapshot_id: _Optional[str] = ..., volume_id: _Optional[str] = ..., version: _Optional[int] = ..., mode: _Optional[_Union[SnapshotMode, str]] = ..., state: _Optional[_Union[SnapshotState, str]] = ..., progress: _Optional[float] = ..., size_bytes: _Optional[int] = ..., chunk_size: _Optional[int] = ..., parent_snapshot_id: _Optional[str] = ..., description: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., labels: _Optional[_Mapping[str, str]] = ..., owner_account_id: _Optional[str] = ...) -> None: ...

class BlockRef(_message.Message):
    __slots__ = ("offset", "token")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    offset: int
    token: bytes
    def __init__(self, offset: _Optional[int] = ..., token: _Optional[bytes] = ...) -> None: ...
