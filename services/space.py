"""The free-space reserve (`--min-free`): new writes stop before the disk is full.

Why: on a full disk SQLite cannot even write the journal of a DELETE, so deletes, GC's
lease row and verify failed along with the uploads and only growing the filesystem
helped. Refusing new writes (UploadBlocks, CreateVolume, CreateSnapshot) with
RESOURCE_EXHAUSTED `STORAGE_FULL` while the free space of any local store directory
(the SQLite manifest's, the file chunk store's) is under the reserve keeps that room
for the calls that free space. Reads are never refused. Stores that are not local
files (PostgreSQL, S3) have no directory to watch and are not checked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import grpc

from blockstore.urls import url_path
from services.faults import storage_full
from services.handlers import items_of, result_of, rewrap

# The calls that add data; everything else (reads, deletes, progress) stays open.
WRITES = frozenset({"UploadBlocks", "CreateVolume", "CreateSnapshot"})


class SpaceReserve:
    def __init__(self, paths: list[Path], min_free: int) -> None:
        self.paths, self.min_free = paths, min_free

    @classmethod
    def for_urls(cls, db_url: str, chunks_url: str, min_free: int) -> "SpaceReserve":
        paths = []
        if db_url.startswith("sqlite:"):
            paths.append(url_path(db_url, "sqlite").parent)
        if chunks_url.startswith("file:"):
            paths.append(url_path(chunks_url, "file"))
        return cls(paths, min_free)

    def free_bytes(self) -> int | None:
        """The least free space (for unprivileged users) over the watched directories."""
        free = []
        for path in self.paths:
            while not path.exists() and path != path.parent:
                path = path.parent             # not created yet: its filesystem is the parent's
            st = os.statvfs(path)
            free.append(st.f_bavail * st.f_frsize)
        return min(free) if free else None

    def check(self, what: str) -> None:
        """Raises StorageFull if free space is under the reserve."""
        free = self.free_bytes()
        if self.min_free and free is not None and free < self.min_free:
            raise storage_full(what)


class SpaceReserveInterceptor(grpc.aio.ServerInterceptor):
    """Refuses the calls in WRITES while the reserve is not free. It sits inside the
    edge interceptor, which authenticates first and turns the error into a status."""

    def __init__(self, reserve: SpaceReserve) -> None:
        self.reserve = reserve

    async def intercept_service(self, continuation: Callable, details: Any) -> Any:
        handler = await continuation(details)
        what = details.method.rpartition("/")[2]
        if handler is None or what not in WRITES:
            return handler
        return _checked(handler, self.reserve, what)


def _checked(handler: grpc.RpcMethodHandler, reserve: SpaceReserve, what: str):
    def unary(behavior):
        async def run(request, context):
            reserve.check(what)
            return await result_of(behavior, request, context)
        return run

    def streaming(behavior):
        async def run(request, context):
            reserve.check(what)
            async for item in items_of(behavior, request, context):
                yield item
        return run

    return rewrap(handler, unary, streaming)
