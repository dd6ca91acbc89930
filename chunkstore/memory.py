"""`MemoryChunkStore`: a real in-memory backend with the local backend's semantics.

Owns `MemoryChunkStore`. Rule: the local backend's semantics exactly (it runs the same
conformance suite, tests/chunkstore/test_conformance.py), only without a disk.

Used by fast tests of the layers above, so it verifies on read exactly like the disk
backend and keeps a last-seen time per chunk from an injectable clock. All mutations
happen between awaits on one event loop, which makes each of them atomic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import AsyncIterator, Callable, Sequence

from blockstore.errors import ChunkMissing

from chunkstore.batch import put_each
from chunkstore.protocol import ChunkInfo, ChunkPut, Compression, StoredChunk
from chunkstore.verify import check_put, check_token, verified_chunk


@dataclass(frozen=True)
class _Entry:
    compression: Compression
    plain_length: int
    payload: bytes
    mtime: float


class MemoryChunkStore:
    """Chunks in a dict; `quarantined` keeps what `quarantine` moved aside."""

    def __init__(self, *, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._chunks: dict[bytes, _Entry] = {}
        self.quarantined: dict[bytes, list[_Entry]] = {}
        self._identity: str | None = None

    async def put(
        self, token: bytes, payload: bytes, compression: Compression, plain_length: int,
        *, overwrite: bool = False,
    ) -> bool:
        check_put(token, payload, compression, plain_length)
        token = bytes(token)
        if token in self._chunks and not overwrite:
            self._refresh(token)
            return False
        entry = _Entry(Compression(compression), plain_length, bytes(payload), self._clock())
        self._chunks[token] = entry
        return True

    async def put_many(self, puts: Sequence[ChunkPut]) -> list[bool]:
        return await put_each(self.put, puts)

    async def get(self, token: bytes) -> StoredChunk:
        entry = self._entry(check_token(token))
        return verified_chunk(bytes(token), entry.compression, entry.payload, entry.plain_length)

    async def stat(self, token: bytes) -> ChunkInfo | None:
        entry = self._chunks.get(check_token(token))
        if entry is None:
            return None
        return ChunkInfo(
            bytes(token), entry.compression, entry.plain_length, len(entry.payload), entry.mtime
        )

    async def contains_many(self, tokens: list[bytes]) -> set[bytes]:
        return {bytes(t) for t in tokens if bytes(t) in self._chunks}

    async def touch(self, token: bytes) -> bool:
        if check_token(token) not in self._chunks:
            return False
        self._refresh(bytes(token))
        return True

    async def delete(self, token: bytes, *, older_than: float | None = None) -> bool:
        entry = self._chunks.get(check_token(token))
        if entry is None or (older_than is not None and entry.mtime >= older_than):
            return False
        del self._chunks[bytes(token)]
        return True

    async def iter_tokens(self) -> AsyncIterator[bytes]:
        for token in list(self._chunks):
            yield token

    async def quarantine(self, token: bytes) -> bool:
        entry = self._chunks.pop(check_token(token), None)
        if entry is None:
            return False
        self.quarantined.setdefault(bytes(token), []).append(entry)
        return True

    async def get_identity(self) -> str | None:
        return self._identity

    async def set_identity(self, identity: str) -> None:
        self._identity = identity

    async def close(self) -> None:
        self._chunks.clear()

    async def sweep_temp_files(self, older_than: float) -> tuple[int, int]:
        """Nothing to sweep: a put here is atomic and leaves no temp state."""
        return 0, 0

    # --- test hooks: simulate what disks do to files -------------------------------------
    def tamper(self, token: bytes, payload: bytes) -> None:
        """Replace a chunk's stored payload, as bit rot or a truncated write would."""
        self._chunks[token] = replace(self._chunks[token], payload=bytes(payload))

    def set_mtime(self, token: bytes, mtime: float) -> None:
        """Age a chunk, to test grace-period behaviour without sleeping."""
        self._chunks[token] = replace(self._chunks[token], mtime=mtime)

    def _entry(self, token: bytes) -> _Entry:
        try:
            return self._chunks[token]
        except KeyError:
            raise ChunkMissing(f"chunk {token.hex()} is missing", token=token.hex()) from None

    def _refresh(self, token: bytes) -> None:
        self._chunks[token] = replace(self._chunks[token], mtime=self._clock())
