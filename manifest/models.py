"""Plain records the manifest stores; no SQL, no protobuf.

Owns the records (`Volume`, `Snapshot`, `BlockRow`, ...) both backends return and the
planes consume. Rules: frozen values (a change is a new record); no driver type, SQL or
protobuf message reaches them, so the planes and the backends meet only here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum


class SnapshotMode(str, Enum):
    POINT_IN_TIME = "POINT_IN_TIME"
    UPLOAD = "UPLOAD"


class SnapshotState(str, Enum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    created_at: int


@dataclass(frozen=True)
class Volume:
    vid: int                      # internal surrogate key; 0 before insert
    volume_id: str
    account_id: str
    size_bytes: int
    chunk_size: int
    source_snapshot_id: str       # "" for a blank volume
    open_version: int
    created_at: int               # microseconds since the epoch
    labels: dict[str, str] = field(default_factory=dict)
    deleted_at: int | None = None
    no_export: bool = False       # its data may not leave the service (sharing.py)

    def replace(self, **changes) -> "Volume":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Snapshot:
    sid: int
    snapshot_id: str
    account_id: str
    vid: int
    volume_id: str
    version: int
    mode: SnapshotMode
    state: SnapshotState
    progress: float
    size_bytes: int
    chunk_size: int
    parent_snapshot_id: str
    description: str
    created_at: int
    completed_at: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    deleted_at: int | None = None

    @property
    def completed(self) -> bool:
        return self.state is SnapshotState.COMPLETED

    def replace(self, **changes) -> "Snapshot":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Share:
    """The owner of a snapshot lets `account_id` use it; read it out only if `allow_export`."""

    account_id: str
    allow_export: bool
    created_at: int


@dataclass(frozen=True)
class IdempotencyRecord:
    fingerprint: bytes
    result: str                   # JSON of the first result
    created_at: int


@dataclass(frozen=True)
class BlockRow:
    """The newest row of one chunk as seen at some version; token None means ZERO."""

    chunk_index: int
    token: bytes | None
    version: int


@dataclass(frozen=True)
class LineageLevel:
    """One level of a read: rows of volume `vid` with version <= `max_version`.

    A volume cloned from a snapshot reads its own rows first, then falls through
    to the source snapshot's volume at the source's version, and so on.
    """

    vid: int
    max_version: int


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk's manifest rows (`chunks` plus its `account_chunks`), as GC removes them."""

    token: bytes
    plain_length: int
    stored_length: int
    created_at: int
    accounts: tuple[str, ...]


@dataclass(frozen=True)
class TokenUse:
    """A block row that points at `token`; `next_version` None: no newer row of its chunk."""

    token: bytes
    vid: int
    chunk_index: int
    version: int
    next_version: int | None


@dataclass(frozen=True)
class ActiveOperation:
    """A running stream that reads or relies on chunks (migrations/0005); GC's cutoff
    never passes its `started_at`. `vid`/`version`: what a reader reads, else None."""

    op_id: str
    kind: str
    target: str
    holder: str
    vid: int | None
    version: int | None
    started_at: float
    expires_at: float


@dataclass(frozen=True)
class DataPlaneRow:
    """A registered data-plane process (migrations/0012); times in microseconds."""

    process_id: str
    address: str
    started_at: int
    renewed_at: int
    expires_at: int
