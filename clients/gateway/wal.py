"""The write-back log: every acknowledged write, durable before its NBD reply.

A record is one write (or zeroing) inside one chunk: header, data, and a BLAKE3 tag over
both. Rules kept:
- `append` returns only after the record is on disk (fdatasync); concurrent appends share
  one sync (group commit), which is what makes queue depth pay off;
- a record is applied whole or not at all: replay stops at the first record whose tag
  does not match (a torn tail after kill -9) and cuts the file there, so a later append
  never follows garbage; a failed append is cut off the same way;
- `rewrite` replaces the log atomically (new file, fsync, rename, fsync of the directory):
  after a flush committed chunks in the service, the log shrinks to what is still dirty.
"""

from __future__ import annotations

import asyncio
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import blake3

MAGIC = 0x4253574C           # "BSWL"
HEADER = struct.Struct(">IQIII")   # magic, chunk index, start in chunk, length, flags
TAG = 16
FLAG_ZERO = 1


@dataclass(frozen=True)
class Record:
    index: int
    start: int
    length: int
    data: bytes | None      # None: the range is zeroed

    def encode(self) -> bytes:
        flags = FLAG_ZERO if self.data is None else 0
        body = HEADER.pack(MAGIC, self.index, self.start, self.length, flags) + (self.data or b"")
        return body + blake3.blake3(body).digest(TAG)


class WriteLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._end = 0
        self._lock = asyncio.Lock()
        self._pending: list[tuple[bytes, asyncio.Future]] = []
        self._committer: asyncio.Task | None = None

    def replay(self) -> list[Record]:
        """The valid records in order; anything after the first bad one is cut off."""
        with open(self.path, "rb") as f:
            raw = f.read()
        records, pos = [], 0
        while (record := _decode(raw, pos)) is not None:
            records.append(record[0])
            pos = record[1]
        if pos != len(raw):
            os.ftruncate(self._fd, pos)
            os.fsync(self._fd)
        self._end = pos
        return records

    async def append(self, records: list[Record]) -> None:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((b"".join(r.encode() for r in records), future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit())
        await future

    async def rewrite(self, records: list[Record]) -> None:
        async with self._lock:
            data = b"".join(r.encode() for r in records)
            fd = await asyncio.to_thread(_write_new, self.path, data)
            os.close(self._fd)
            self._fd, self._end = fd, len(data)

    def close(self) -> None:
        os.close(self._fd)

    async def _commit(self) -> None:
        while self._pending:
            async with self._lock:
                batch, self._pending = self._pending, []
                data = b"".join(b for b, _ in batch)
                try:
                    await asyncio.to_thread(self._write_at_end, data)
                except OSError as err:
                    for _, future in batch:
                        future.set_exception(err)
                    continue
                self._end += len(data)
                for _, future in batch:
                    future.set_result(None)

    def _write_at_end(self, data: bytes) -> None:
        try:
            written = os.pwrite(self._fd, data, self._end)
            if written != len(data):
                raise OSError(28, "short write to the write-back log")
            os.fdatasync(self._fd)
        except OSError:
            os.ftruncate(self._fd, self._end)
            raise


def _decode(raw: bytes, pos: int) -> tuple[Record, int] | None:
    if pos + HEADER.size > len(raw):
        return None
    magic, index, start, length, flags = HEADER.unpack_from(raw, pos)
    if magic != MAGIC:
        return None
    body_end = pos + HEADER.size + (0 if flags & FLAG_ZERO else length)
    if body_end + TAG > len(raw) or blake3.blake3(raw[pos:body_end]).digest(TAG) != raw[body_end:body_end + TAG]:
        return None
    data = None if flags & FLAG_ZERO else raw[pos + HEADER.size:body_end]
    return Record(index, start, length, data), body_end + TAG


def _write_new(path: Path, data: bytes) -> int:
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return fd
