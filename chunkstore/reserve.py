"""`ReservingChunkStore`: refuses new chunk data while free space is under a reserve.

Why a wrapper as well as the check when a write call starts: one upload stream can
carry gigabytes, so it must stop when the reserve is reached midway, not only when it
began. `check` raises the domain error (StorageFull) itself; everything but `put` and
`put_many` passes straight through, so reads, deletes and GC's sweep are never refused.
A batch is checked once, before any of it is stored (the check costs two statvfs).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from chunkstore.protocol import ChunkPut, ChunkStore, Compression


class ReservingChunkStore:
    def __init__(self, inner: ChunkStore, check: Callable[[str], None]) -> None:
        self._inner, self._check = inner, check

    async def put(self, token: bytes, payload: bytes, compression: Compression,
                  plain_length: int, **options: Any) -> bool:
        self._check(f"storing chunk {bytes(token).hex()}")
        return await self._inner.put(token, payload, compression, plain_length, **options)

    async def put_many(self, puts: Sequence[ChunkPut]) -> list[bool]:
        if puts:
            more = f" and {len(puts) - 1} more" if len(puts) > 1 else ""
            self._check(f"storing chunk {bytes(puts[0].token).hex()}{more}")
        return await self._inner.put_many(puts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
