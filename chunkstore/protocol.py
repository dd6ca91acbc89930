"""The `ChunkStore` Protocol and the value types it trades in.

Kept free of any backend detail (paths, file descriptors) so an S3-compatible backend can
implement it unchanged: a chunk is named only by its token, and "mtime" is whatever
last-seen timestamp the backend keeps for garbage collection.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import AsyncIterator, Protocol, Sequence, runtime_checkable


class Compression(str, Enum):
    """How a chunk's payload is stored; mirrors `blockstore.v1.Compression` without grpc."""

    NONE = "none"
    ZSTD = "zstd"


@dataclass(frozen=True)
class StoredChunk:
    """A chunk read back from a store; `plain` has already been verified against `token`."""

    token: bytes
    compression: Compression
    plain_length: int
    payload: bytes
    plain: bytes


@dataclass(frozen=True)
class ChunkInfo:
    """Metadata of a stored chunk, read without verifying its payload."""

    token: bytes
    compression: Compression
    plain_length: int
    stored_length: int
    mtime: float


@dataclass(frozen=True)
class ChunkPut:
    """One insert of `ChunkStore.put_many`: the arguments of `put`."""

    token: bytes
    payload: bytes
    compression: Compression
    plain_length: int
    overwrite: bool = False


@runtime_checkable
class ChunkStore(Protocol):
    """Content-addressed chunk storage; see the package docstring for the invariants."""

    async def put(
        self, token: bytes, payload: bytes, compression: Compression, plain_length: int,
        *, overwrite: bool = False,
    ) -> bool:
        """Insert durably; True if newly written, False if present (its mtime refreshed).

        `overwrite`: write this payload whether or not the chunk exists, atomically
        replacing any copy (True). It costs what a first insert costs, so the caller's
        timing can not tell whether the store already held the chunk (account scope).
        """
        ...

    async def put_many(self, puts: Sequence[ChunkPut]) -> list[bool]:
        """`put` each, results in order; all durable when it returns.

        Why a batch call: an upload of small chunks paid a worker-thread hop, a journal
        commit per fsync and a free-space check per chunk; a backend shares that work over
        the batch. On an error some chunks of the batch may be stored, as with puts
        running side by side (nothing refers to them yet: GC collects them).
        """
        ...

    async def get(self, token: bytes) -> StoredChunk:
        """Read and verify; raises ChunkMissing or ChunkCorrupt, never returns wrong bytes."""
        ...

    async def stat(self, token: bytes) -> ChunkInfo | None:
        """Header and last-seen time without reading the payload; None if absent."""
        ...

    async def contains_many(self, tokens: list[bytes]) -> set[bytes]:
        """The subset of `tokens` that are present (existence only, not verified)."""
        ...

    async def touch(self, token: bytes) -> bool:
        """Refresh last-seen (GC grace period); False if absent."""
        ...

    async def delete(self, token: bytes, *, older_than: float | None = None) -> bool:
        """Remove; with `older_than`, only if last-seen is still before it (GC sweep)."""
        ...

    def iter_tokens(self) -> AsyncIterator[bytes]:
        """Every stored token, in no particular order; never temp or quarantined files."""
        ...

    async def quarantine(self, token: bytes) -> bool:
        """Move a bad chunk out of the way so that a later put writes it afresh."""
        ...

    async def get_identity(self) -> str | None:
        """The id of the manifest this store is bound to (services/identity.py); None if
        it was never bound."""
        ...

    async def set_identity(self, identity: str) -> None:
        """Bind the store to `identity`, replacing any earlier one: durable and atomic
        (a crash leaves the old identity or the new one, never none)."""
        ...

    async def close(self) -> None:
        """Release resources; the store must not be used afterwards."""
        ...

    async def sweep_temp_files(self, older_than: float) -> tuple[int, int]:
        """GC: drop leftovers of crashed puts/deletes older than `older_than`; (files, bytes)."""
        ...
