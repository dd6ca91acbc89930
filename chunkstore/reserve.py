"""`ReservingChunkStore`: refuses new chunk data while free space is under a reserve.

Why a wrapper as well as the check when a write call starts: one upload stream can
carry gigabytes, so it must stop when the reserve is reached midway, not only when it
began. `check` raises the domain error (StorageFull) itself; everything but `put`
passes straight through, so reads, deletes and GC's sweep are never refused.
"""

from __future__ import annotations

from typing import Any, Callable

from chunkstore.protocol import ChunkStore, Compression


class ReservingChunkStore:
    def __init__(self, inner: ChunkStore, check: Callable[[str], None]) -> None:
        self._inner, self._check = inner, check

    async def put(self, token: bytes, payload: bytes, compression: Compression,
                  plain_length: int, **options: Any) -> bool:
        self._check(f"storing chunk {bytes(token).hex()}")
        return await self._inner.put(token, payload, compression, plain_length, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
