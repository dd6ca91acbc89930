"""`MeteredChunkStore`: times every `ChunkStore` call by backend and operation.

Owns `MeteredChunkStore`. Why a wrapper (as bb-storage's metrics blob access): the
planes, GC and verify call the store in many places; measuring here, stacked once in
services/server.py, covers them all and keeps the domain code free of metrics. Rule: it
changes nothing it passes through: same arguments, same results, same errors (a call
that raises is counted in `blockstore_chunk_store_errors_total` and timed like the
others).
"""

from __future__ import annotations

from time import perf_counter
from typing import Any, AsyncIterator, Sequence

from chunkstore.protocol import ChunkInfo, ChunkPut, ChunkStore, Compression, StoredChunk
from services.metric_families import Metrics

TIMED = ("put", "put_many", "get", "stat", "contains_many", "touch", "delete", "quarantine",
         "get_identity", "set_identity", "sweep_temp_files")
BACKENDS = {"file": "dir", "s3": "s3", "memory": "memory"}    # --chunks URL scheme -> label


def backend_of(url: str) -> str:
    return BACKENDS.get(url.partition(":")[0], "other")


class MeteredChunkStore:
    def __init__(self, inner: ChunkStore, backend: str, metrics: Metrics) -> None:
        self.inner = inner
        self._timers = {op: metrics.chunk_seconds.labels(backend, op) for op in TIMED}
        self._errors = {op: metrics.chunk_errors.labels(backend, op) for op in TIMED}
        self._written = metrics.chunk_bytes_written.labels(backend)

    async def _timed(self, op: str, *args: Any, **kwargs: Any) -> Any:
        start = perf_counter()
        try:
            return await getattr(self.inner, op)(*args, **kwargs)
        except BaseException:
            self._errors[op].inc()
            raise
        finally:
            self._timers[op].observe(perf_counter() - start)

    async def put(self, token: bytes, payload: bytes, compression: Compression,
                  plain_length: int, *, overwrite: bool = False) -> bool:
        written = await self._timed("put", token, payload, compression, plain_length,
                                    overwrite=overwrite)
        if written:
            self._written.inc(len(payload))
        return written

    async def put_many(self, puts: Sequence[ChunkPut]) -> list[bool]:
        """Timed as one call (the batch is what the backend does at once)."""
        written = await self._timed("put_many", puts)
        self._written.inc(sum(len(p.payload) for p, w in zip(puts, written) if w))
        return written

    async def get(self, token: bytes) -> StoredChunk:
        return await self._timed("get", token)

    async def stat(self, token: bytes) -> ChunkInfo | None:
        return await self._timed("stat", token)

    async def contains_many(self, tokens: list[bytes]) -> set[bytes]:
        return await self._timed("contains_many", tokens)

    async def touch(self, token: bytes) -> bool:
        return await self._timed("touch", token)

    async def delete(self, token: bytes, *, older_than: float | None = None) -> bool:
        return await self._timed("delete", token, older_than=older_than)

    def iter_tokens(self) -> AsyncIterator[bytes]:
        return self.inner.iter_tokens()     # a listing: its pace is the consumer's

    async def quarantine(self, token: bytes) -> bool:
        return await self._timed("quarantine", token)

    async def get_identity(self) -> str | None:
        return await self._timed("get_identity")

    async def set_identity(self, identity: str) -> None:
        await self._timed("set_identity", identity)

    async def close(self) -> None:
        await self.inner.close()

    async def sweep_temp_files(self, older_than: float) -> tuple[int, int]:
        return await self._timed("sweep_temp_files", older_than)
