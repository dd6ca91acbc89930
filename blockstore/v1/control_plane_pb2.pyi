import datetime

from blockstore.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateVolumeRequest(_message.Message):
    __slots__ = ("size_bytes", "chunk_size", "source_snapshot_id", "idempotency_key", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    size_bytes: int
    chunk_size: int
    source_snapshot_id: str
    idempotency_key: str
    labels: _containers.ScalarMap[str, str]
    def __init__(self, size_bytes: _Optional[int] = ..., chunk_size: _Optional[int] = ..., source_snapshot_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateVolumeResponse(_message.Message):
    __slots__ = ("volume", "initial_snapshot_id")
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    INITIAL_SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    volume: _common_pb2.Volume
    initial_snapshot_id: str
    def __init__(self, volume: _Optional[_Union[_common_pb2.Volume, _Mapping]] = ..., initial_snapshot_id: _Optional[str] = ...) -> None: ...

class GetVolumeRequest(_message.Message):
    __slots__ = ("volume_id",)
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    def __init__(self, volume_id: _Optional[str] = ...) -> None: ...

class GetVolumeResponse(_message.Message):
    __slots__ = ("volume",)
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    volume: _common_pb2.Volume
    def __init__(self, volume: _Optional[_Union[_common_pb2.Volume, _Mapping]] = ...) -> None: ...

class ListVolumesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListVolumesResponse(_message.Message):
    __slots__ = ("volumes", "next_page_token")
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    volumes: _containers.RepeatedCompositeFieldContainer[_common_pb2.Volume]
    next_page_token: str
    def __init__(self, volumes: _Optional[_Iterable[_Union[_common_pb2.Volume, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteVolumeRequest(_message.Message):
    __slots__ = ("volume_id", "allow_missing")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    allow_missing: bool
    def __init__(self, volume_id: _Optional[str] = ..., allow_missing: _Optional[bool] = ...) -> None: ...

class DeleteVolumeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateSnapshotRequest(_message.Message):
    __slots__ = ("volume_id", "mode", "chunk_tokens", "idempotency_key", "description", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_TOKENS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    mode: _common_pb2.SnapshotMode
    chunk_tokens: _containers.RepeatedCompositeFieldContainer[_common_pb2.BlockRef]
    idempotency_key: str
    description: str
    labels: _containers.ScalarMap[str, str]
    def __init__(self, volume_id: _Optional[str] = ..., mode: _Optional[_Union[_common_pb2.SnapshotMode, str]] = ..., chunk_tokens: _Optional[_Iterable[_Union[_common_pb2.BlockRef, _Mapping]]] = ..., idempotency_key: _Optional[str] = ..., description: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateSnapshotResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: _common_pb2.Snapshot
    def __init__(self, snapshot: _Optional[_Union[_common_pb2.Snapshot, _Mapping]] = ...) -> None: ...

class GetSnapshotRequest(_message.Message):
    __slots__ = ("snapshot_id",)
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    def __init__(self, snapshot_id: _Optional[str] = ...) -> None: ...

class GetSnapshotResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: _common_pb2.Snapshot
    def __init__(self, snapshot: _Optional[_Union[_common_pb2.Snapshot, _Mapping]] = ...) -> None: ...

class ListSnapshotsRequest(_message.Message):
    __slots__ = ("volume_id", "page_size", "page_token", "shared_with_me")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SHARED_WITH_ME_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    page_size: int
    page_token: str
    shared_with_me: bool
    def __init__(self, volume_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., shared_with_me: _Optional[bool] = ...) -> None: ...

class ListSnapshotsResponse(_message.Message):
    __slots__ = ("snapshots", "next_page_token")
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[_common_pb2.Snapshot]
    next_page_token: str
    def __init__(self, snapshots: _Optional[_Iterable[_Union[_common_pb2.Snapshot, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReportSnapshotProgressRequest(_message.Message):
    __slots__ = ("snapshot_id", "progress")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    progress: float
    def __init__(self, snapshot_id: _Optional[str] = ..., progress: _Optional[float] = ...) -> None: ...

class ReportSnapshotProgressResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: _common_pb2.Snapshot
    def __init__(self, snapshot: _Optional[_Union[_common_pb2.Snapshot, _Mapping]] = ...) -> None: ...

class DeleteSnapshotRequest(_message.Message):
    __slots__ = ("snapshot_id", "allow_missing")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    allow_missing: bool
    def __init__(self, snapshot_id: _Optional[str] = ..., allow_missing: _Optional[bool] = ...) -> None: ...

class DeleteSnapshotResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VolumeLease(_message.Message):
    __slots__ = ("volume_id", "holder_id", "expires_at")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    holder_id: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, volume_id: _Optional[str] = ..., holder_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AcquireVolumeLeaseRequest(_message.Message):
    __slots__ = ("volume_id", "holder_id", "ttl_seconds")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    holder_id: str
    ttl_seconds: int
    def __init__(self, volume_id: _Optional[str] = ..., holder_id: _Optional[str] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class AcquireVolumeLeaseResponse(_message.Message):
    __slots__ = ("lease",)
    LEASE_FIELD_NUMBER: _ClassVar[int]
    lease: VolumeLease
    def __init__(self, lease: _Optional[_Union[VolumeLease, _Mapping]] = ...) -> None: ...

class RenewVolumeLeaseRequest(_message.Message):
    __slots__ = ("volume_id", "holder_id", "ttl_seconds")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    holder_id: str
    ttl_seconds: int
    def __init__(self, volume_id: _Optional[str] = ..., holder_id: _Optional[str] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class RenewVolumeLeaseResponse(_message.Message):
    __slots__ = ("lease",)
    LEASE_FIELD_NUMBER: _ClassVar[int]
    lease: VolumeLease
    def __init__(self, lease: _Optional[_Union[VolumeLease, _Mapping]] = ...) -> None: ...

class ReleaseVolumeLeaseRequest(_message.Message):
    __slots__ = ("volume_id", "holder_id")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_ID_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    holder_id: str
    def __init__(self, volume_id: _Optional[str] = ..., holder_id: _Optional[str] = ...) -> None: ...

class ReleaseVolumeLeaseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDataPlanesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDataPlanesResponse(_message.Message):
    __slots__ = ("data_planes",)
    DATA_PLANES_FIELD_NUMBER: _ClassVar[int]
    data_planes: _containers.RepeatedCompositeFieldContainer[DataPlaneEndpoint]
    def __init__(self, data_planes: _Optional[_Iterable[_Union[DataPlaneEndpoint, _Mapping]]] = ...) -> None: ...

class DataPlaneEndpoint(_message.Message):
    __slots__ = ("address", "heartbeat_age_ms", "started_at")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_AGE_MS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    address: str
    heartbeat_age_ms: int
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, address: _Optional[str] = ..., heartbeat_age_ms: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SnapshotShare(_message.Message):
    __slots__ = ("account_id", "allow_export", "created_at")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOW_EXPORT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    allow_export: bool
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., allow_export: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ShareSnapshotRequest(_message.Message):
    __slots__ = ("snapshot_id", "account_id", "allow_export")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOW_EXPORT_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    account_id: str
    allow_export: bool
    def __init__(self, snapshot_id: _Optional[str] = ..., account_id: _Optional[str] = ..., allow_export: _Optional[bool] = ...) -> None: ...

class ShareSnapshotResponse(_message.Message):
    __slots__ = ("share",)
    SHARE_FIELD_NUMBER: _ClassVar[int]
    share: SnapshotShare
    def __init__(self, share: _Optional[_Union[SnapshotShare, _Mapping]] = ...) -> None: ...

class UnshareSnapshotRequest(_message.Message):
    __slots__ = ("snapshot_id", "account_id")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    account_id: str
    def __init__(self, snapshot_id: _Optional[str] = ..., account_id: _Optional[str] = ...) -> None: ...

class UnshareSnapshotResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSnapshotSharesRequest(_message.Message):
    __slots__ = ("snapshot_id",)
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    def __init__(self, snapshot_id: _Optional[str] = ...) -> None: ...

class ListSnapshotSharesResponse(_message.Message):
    __slots__ = ("shares",)
    SHARES_FIELD_NUMBER: _ClassVar[int]
    shares: _containers.RepeatedCompositeFieldContainer[SnapshotShare]
    def __init__(self, shares: _Optional[_Iterable[_Union[SnapshotShare, _Mapping]]] = ...) -> None: ...
