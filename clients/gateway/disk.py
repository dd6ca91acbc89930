"""The `Disk` Protocol the NBD server exports, and the one error type it understands.

A disk is a byte array of fixed `size`. `write` and `zero` return once the data is durable
locally (a crash loses nothing acknowledged); `flush` returns once everything written
before it is committed where the disk keeps its data for good (the Blockstore service,
or the shadowed local file). Anything a disk raises other than `DiskError` is reported to
the NBD client as EIO, so a bug fails one request, never the connection or the process.
"""

from __future__ import annotations

from typing import Protocol

from clients.gateway import nbdproto


class DiskError(Exception):
    """A request failed with an NBD errno (EIO, ENOSPC, EINVAL ...)."""

    def __init__(self, errno: int, message: str) -> None:
        super().__init__(message)
        self.errno = errno


class Disk(Protocol):
    size: int

    async def read(self, offset: int, length: int) -> bytes: ...

    def read_now(self, offset: int, length: int) -> bytes | None:
        """The bytes at once if they are at hand (memory, cache, page cache), else None;
        lets the server answer a warm READ without scheduling a task for it."""

    async def write(self, offset: int, data: bytes, fua: bool = False) -> None: ...

    async def zero(self, offset: int, length: int, fua: bool = False) -> None: ...

    async def flush(self) -> None: ...


def io_error(message: str) -> DiskError:
    return DiskError(nbdproto.EIO, message)
