"""Spans for the storage work inside a call: `TracedManifestStore`, `TracedChunkStore`.

Why wrappers: a trace should show where an RPC spends its time (the manifest commit,
each chunk write) without any plane knowing about tracing. services/server.py stacks
these around the `ManifestStore` and the data plane's `ChunkStore` only when tracing is
on (services/tracing.py); a span opened inside a call is a child of the call's span.

Rules: a span carries what the operation is about (a chunk's token, sizes, compression,
the transaction's outcome), never chunk bytes or account secrets. Everything not
traced passes straight through to the wrapped store.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from time import time_ns
from typing import Any, AsyncIterator, Sequence

from opentelemetry import trace

from chunkstore import ChunkPut, ChunkStore, Compression, StoredChunk
from manifest import ManifestStore, ManifestTx

INTERNAL = trace.SpanKind.INTERNAL


class TracedManifestStore:
    """A `ManifestStore.write` span per write transaction (its body and its commit, with
    the outcome) and a `ManifestStore.read` span per read transaction (a listing's page,
    a lookup: where a read-mostly call such as GetVolume or ListBlocks spends its time)."""

    def __init__(self, inner: ManifestStore, tracer: trace.Tracer) -> None:
        self._inner, self._tracer = inner, tracer

    @asynccontextmanager
    async def read(self) -> AsyncIterator[ManifestTx]:
        with self._tracer.start_as_current_span("ManifestStore.read", kind=INTERNAL):
            async with self._inner.read() as tx:
                yield tx

    @asynccontextmanager
    async def write(self) -> AsyncIterator[ManifestTx]:
        with self._tracer.start_as_current_span("ManifestStore.write", kind=INTERNAL) as span:
            outcome = "rolled_back"    # also when the body raises or is cancelled
            try:
                async with self._inner.write() as tx:
                    yield tx
                outcome = "committed"
            finally:
                span.set_attribute("blockstore.manifest.outcome", outcome)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _put_attributes(put: ChunkPut) -> dict[str, Any]:
    return {"blockstore.chunk.token": bytes(put.token).hex(),
            "blockstore.chunk.stored_bytes": len(put.payload),
            "blockstore.chunk.plain_bytes": put.plain_length,
            "blockstore.chunk.compression": Compression(put.compression).value,
            "blockstore.chunk.overwrite": put.overwrite}


class TracedChunkStore:
    """A span per chunk write (`ChunkStore.put`) and per chunk read (`ChunkStore.get`)."""

    def __init__(self, inner: ChunkStore, tracer: trace.Tracer) -> None:
        self._inner, self._tracer = inner, tracer

    async def put(self, token: bytes, payload: bytes, compression: Compression,
                  plain_length: int, **options: Any) -> bool:
        put = ChunkPut(token, payload, compression, plain_length,
                       bool(options.get("overwrite", False)))
        with self._tracer.start_as_current_span("ChunkStore.put", kind=INTERNAL,
                                                attributes=_put_attributes(put)) as span:
            written = await self._inner.put(token, payload, compression, plain_length,
                                            **options)
            span.set_attribute("blockstore.chunk.written", written)
            return written

    async def put_many(self, puts: Sequence[ChunkPut]) -> list[bool]:
        """Still one `ChunkStore.put` span per chunk, each spanning the batch's call (the
        chunks of a batch are written together), with `.batch` = the batch's size."""
        start, failure, written = time_ns(), None, [False] * len(puts)
        try:
            written = await self._inner.put_many(puts)
        except Exception as exc:
            failure = exc
            raise
        finally:
            end = time_ns()
            for put, done in zip(puts, written):
                span = self._tracer.start_span(
                    "ChunkStore.put", kind=INTERNAL, start_time=start,
                    attributes={**_put_attributes(put), "blockstore.chunk.batch": len(puts),
                                "blockstore.chunk.written": done})
                if failure is not None:
                    span.record_exception(failure)
                    span.set_status(trace.Status(trace.StatusCode.ERROR, str(failure)))
                span.end(end_time=end)
        return written

    async def get(self, token: bytes) -> StoredChunk:
        with self._tracer.start_as_current_span(
                "ChunkStore.get", kind=INTERNAL,
                attributes={"blockstore.chunk.token": bytes(token).hex()}) as span:
            chunk = await self._inner.get(token)
            span.set_attribute("blockstore.chunk.stored_bytes", len(chunk.payload))
            return chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
