from blockstore.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UploadTarget(_message.Message):
    __slots__ = ("volume_id", "snapshot_id", "data_version", "block_count", "lease_holder_id")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_VERSION_FIELD_NUMBER: _ClassVar[int]
    BLOCK_COUNT_FIELD_NUMBER: _ClassVar[int]
    LEASE_HOLDER_ID_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    snapshot_id: str
    data_version: int
    block_count: int
    lease_holder_id: str
    def __init__(self, volume_id: _Optional[str] = ..., snapshot_id: _Optional[str] = ..., data_version: _Optional[int] = ..., block_count: _Optional[int] = ..., lease_holder_id: _Optional[str] = ...) -> None: ...

class UploadBlock(_message.Message):
    __slots__ = ("offset", "length", "checksum", "compression", "data", "zero")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    ZERO_FIELD_NUMBER: _ClassVar[int]
    offset: int
    length: int
    checksum: bytes
    compression: _common_pb2.Compression
    data: bytes
    zero: bool
    def __init__(self, offset: _Optional[int] = ..., length: _Optional[int] = ..., checksum: _Optional[bytes] = ..., compression: _Optional[_Union[_common_pb2.Compression, str]] = ..., data: _Optional[bytes] = ..., zero: _Optional[bool] = ...) -> None: ...

class UploadBlocksRequest(_message.Message):
    __slots__ = ("target", "block")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    BLOCK_FIELD_NUMBER: _ClassVar[int]
    target: UploadTarget
    block: UploadBlock
    def __init__(self, target: _Optional[_Union[UploadTarget, _Mapping]] = ..., block: _Optional[_Union[UploadBlock, _Mapping]] = ...) -> None: ...

class UploadBlocksResponse(_message.Message):
    __slots__ = ("blocks_written", "bytes_received", "bytes_stored", "dedup_hits", "tokens")
    BLOCKS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    BYTES_STORED_FIELD_NUMBER: _ClassVar[int]
    DEDUP_HITS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    blocks_written: int
    bytes_received: int
    bytes_stored: int
    dedup_hits: int
    tokens: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, blocks_written: _Optional[int] = ..., bytes_received: _Optional[int] = ..., bytes_stored: _Optional[int] = ..., dedup_hits: _Optional[int] = ..., tokens: _Optional[_Iterable[bytes]] = ...) -> None: ...

class ByteRange(_message.Message):
    __slots__ = ("offset", "length")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    offset: int
    length: int
    def __init__(self, offset: _Optional[int] = ..., length: _Optional[int] = ...) -> None: ...

class DownloadBlocksRequest(_message.Message):
    __slots__ = ("volume_id", "snapshot_id", "ranges", "accept_compression")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    RANGES_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    snapshot_id: str
    ranges: _containers.RepeatedCompositeFieldContainer[ByteRange]
    accept_compression: _containers.RepeatedScalarFieldContainer[_common_pb2.Compression]
    def __init__(self, volume_id: _Optional[str] = ..., snapshot_id: _Optional[str] = ..., ranges: _Optional[_Iterable[_Union[ByteRange, _Mapping]]] = ..., accept_compression: _Optional[_Iterable[_Union[_common_pb2.Compression, str]]] = ...) -> None: ...

class DownloadBlocksResponse(_message.Message):
    __slots__ = ("offset", "length", "checksum", "compression", "data", "zero")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    ZERO_FIELD_NUMBER: _ClassVar[int]
    offset: int
    length: int
    checksum: bytes
    compression: _common_pb2.Compression
    data: bytes
    zero: bool
    def __init__(self, offset: _Optional[int] = ..., length: _Optional[int] = ..., checksum: _Optional[bytes] = ..., compression: _Optional[_Union[_common_pb2.Compression, str]] = ..., data: _Optional[bytes] = ..., zero: _Optional[bool] = ...) -> None: ...

class FindMissingChunksRequest(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, tokens: _Optional[_Iterable[bytes]] = ...) -> None: ...

class FindMissingChunksResponse(_message.Message):
    __slots__ = ("missing_tokens",)
    MISSING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    missing_tokens: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, missing_tokens: _Optional[_Iterable[bytes]] = ...) -> None: ...

class ListBlocksRequest(_message.Message):
    __slots__ = ("volume_id", "snapshot_id", "start_offset", "page_size", "page_token")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    START_OFFSET_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    snapshot_id: str
    start_offset: int
    page_size: int
    page_token: str
    def __init__(self, volume_id: _Optional[str] = ..., snapshot_id: _Optional[str] = ..., start_offset: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class BlockEntry(_message.Message):
    __slots__ = ("offset", "token", "zero")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ZERO_FIELD_NUMBER: _ClassVar[int]
    offset: int
    token: bytes
    zero: bool
    def __init__(self, offset: _Optional[int] = ..., token: _Optional[bytes] = ..., zero: _Optional[bool] = ...) -> None: ...

class ListBlocksResponse(_message.Message):
    __slots__ = ("blocks", "next_page_token")
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    blocks: _containers.RepeatedCompositeFieldContainer[BlockEntry]
    next_page_token: str
    def __init__(self, blocks: _Optional[_Iterable[_Union[BlockEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListChangedBlocksRequest(_message.Message):
    __slots__ = ("base_snapshot_id", "target_snapshot_id", "page_size", "page_token")
    BASE_SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    base_snapshot_id: str
    target_snapshot_id: str
    page_size: int
    page_token: str
    def __init__(self, base_snapshot_id: _Optional[str] = ..., target_snapshot_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ChangedBlock(_message.Message):
    __slots__ = ("offset", "base_token", "target_token", "base_zero", "target_zero")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    BASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TARGET_TOKEN_FIELD_NUMBER: _ClassVar[int]
    BASE_ZERO_FIELD_NUMBER: _ClassVar[int]
    TARGET_ZERO_FIELD_NUMBER: _ClassVar[int]
    offset: int
    base_token: bytes
    target_token: bytes
    base_zero: bool
    target_zero: bool
    def __init__(self, offset: _Optional[int] = ..., base_token: _Optional[bytes] = ..., target_token: _Optional[bytes] = ..., base_zero: _Optional[bool] = ..., target_zero: _Optional[bool] = ...) -> None: ...

class ListChangedBlocksResponse(_message.Message):
    __slots__ = ("changes", "next_page_token")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[ChangedBlock]
    next_page_token: str
    def __init__(self, changes: _Optional[_Iterable[_Union[ChangedBlock, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
