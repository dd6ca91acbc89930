"""Shadow mode, local half: the local file is the disk; writes mark chunks for upload.

Rules kept:
- a chunk is marked dirty in the persisted map (one byte per chunk, fdatasync'ed) BEFORE
  the write reaches the file, so a crash after the write never forgets the chunk;
- the write to the file happens on the event loop thread with no await between marking
  and writing, so the uploader (which compares generations) never clears a chunk whose
  newest bytes it did not read;
- FLUSH makes the file and the map durable (the local disk is the primary; the service
  follows in the background, see `shadowsync`).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from clients.gateway.disk import io_error
from clients.gateway.remote import Layout
from clients.transfer.output import fill_zeros


class ShadowTooSmall(ValueError):
    """The shadow file can not hold the volume."""


class DirtyMap:
    """One byte per chunk in a file: 1 means the service may lack the local bytes."""

    def __init__(self, path: Path, chunks: int) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        raw = os.pread(self._fd, chunks, 0).ljust(chunks, b"\0")
        self.dirty = {i for i, b in enumerate(raw) if b}
        self.gen: dict[int, int] = {}

    def mark(self, indices: list[int]) -> None:
        new = [i for i in indices if i not in self.dirty]
        for i in indices:
            self.gen[i] = self.gen.get(i, 0) + 1
        if new:
            for i in new:
                os.pwrite(self._fd, b"\1", i)
            os.fdatasync(self._fd)
            self.dirty.update(new)

    def clear(self, index: int, gen: int) -> bool:
        """Clears a chunk uploaded at generation `gen` unless it was written since."""
        if self.gen.get(index, 0) != gen:
            return False
        self.dirty.discard(index)
        os.pwrite(self._fd, b"\0", index)   # a lost clear only means one more upload
        return True

    def sync(self) -> None:
        os.fdatasync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


class ShadowDisk:
    def __init__(self, path: Path, layout: Layout, dirty: DirtyMap) -> None:
        self.layout, self.size, self.dirty = layout, layout.size, dirty
        self._fd = os.open(path, os.O_RDWR)
        if os.lseek(self._fd, 0, os.SEEK_END) < layout.size:
            os.close(self._fd)
            raise ShadowTooSmall(f"shadow file {path} is smaller than the volume "
                                 f"({layout.size} bytes)")
        self.changed = asyncio.Event()      # set whenever a chunk becomes dirty
        self.writes_open = asyncio.Event()  # cleared while a snapshot drains the queue
        self.writes_open.set()
        self.in_flight = 0

    def read_chunk(self, index: int) -> bytes:
        return os.pread(self._fd, self.layout.length(index), index * self.layout.chunk_size)

    async def read(self, offset: int, length: int) -> bytes:
        return await asyncio.to_thread(os.pread, self._fd, length, offset)

    def read_now(self, offset: int, length: int) -> bytes | None:
        """Small reads inline (most come from the page cache); big ones in a thread."""
        return os.pread(self._fd, length, offset) if length <= 128 << 10 else None

    async def write(self, offset: int, data: bytes, fua: bool = False) -> None:
        await self._change(offset, len(data), data, fua)

    async def zero(self, offset: int, length: int, fua: bool = False) -> None:
        await self._change(offset, length, None, fua)

    async def flush(self) -> None:
        try:
            await asyncio.to_thread(os.fdatasync, self._fd)
            self.dirty.sync()
        except OSError as err:
            raise io_error(f"flushing the shadow file: {err.strerror}") from err

    async def _change(self, offset: int, length: int, data: bytes | None, fua: bool) -> None:
        await self.writes_open.wait()
        cs = self.layout.chunk_size
        try:
            self.dirty.mark(list(range(offset // cs, (offset + length - 1) // cs + 1)))
            if data is None:
                fill_zeros(self._fd, offset, length, punch=True)
            else:
                os.pwrite(self._fd, data, offset)
        except OSError as err:
            raise io_error(f"writing the shadow file: {err.strerror}") from err
        self.changed.set()
        if fua:
            await self.flush()

    def close(self) -> None:
        os.close(self._fd)
