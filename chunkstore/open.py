"""`open_chunk_store`: the one place a `--chunks` URL becomes a backend.

Owns the choice of `ChunkStore` backend (local directory, S3, memory) and `STORE_ERRORS`,
what a remote backend's client raises. Rule: callers get the Protocol, never a backend
class; an unsupported scheme fails with the URL named.
"""

from __future__ import annotations

from concurrent.futures import Executor
from urllib.parse import urlsplit

from obstore.exceptions import BaseError as S3ClientError

from blockstore.urls import url_path

from chunkstore.local import LocalChunkStore
from chunkstore.memory import MemoryChunkStore
from chunkstore.protocol import ChunkStore
from chunkstore.s3_config import check_s3_url, parse_s3_url

# What a remote backend's client raises when a request fails (endpoint down, 5xx,
# credentials refused); services/faults.py reports it as the storage's I/O failure, the
# way a local directory's OSError is. A missing chunk is ChunkMissing, never one of these.
STORE_ERRORS: tuple[type[Exception], ...] = (S3ClientError,)


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


def check_chunks_url(url: str) -> None:
    """Refuses a `--chunks` URL `open_chunk_store` would refuse, without opening anything."""
    scheme = urlsplit(url).scheme
    if scheme == "file":
        url_path(url, "file")
    elif scheme == "s3":
        check_s3_url(url)
    elif scheme != "memory":
        raise ValueError(f"chunk store URL {url!r}: unsupported scheme (use file://, s3:// "
                         "or memory://)")
