"""`open_chunk_store`: the one place a `--chunks` URL becomes a backend."""

from __future__ import annotations

from concurrent.futures import Executor
from urllib.parse import urlsplit

from blockstore.urls import url_path

from chunkstore.local import LocalChunkStore
from chunkstore.memory import MemoryChunkStore
from chunkstore.protocol import ChunkStore
from chunkstore.s3_config import parse_s3_url


def open_chunk_store(url: str, *, fsync: bool = True,
                     executor: Executor | None = None) -> ChunkStore:
    """`file:///abs/path` (local directory), `s3://BUCKET[/PREFIX]?endpoint=...` or
    `memory://`.

    `executor` runs the blocking file I/O (default: the event loop's default executor).
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalChunkStore(url_path(url, "file"), fsync=fsync, executor=executor)
    if parts.scheme == "memory":
        return MemoryChunkStore()
    if parts.scheme == "s3":
        from chunkstore.s3 import S3ChunkStore
        return S3ChunkStore(parse_s3_url(url), executor=executor)
    raise ValueError(f"chunk store URL {url!r}: unsupported scheme (use file://, s3:// or "
                     "memory://)")
