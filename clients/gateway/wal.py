"""The write-back log: every acknowledged write, durable before its NBD reply.

A record is one write (or zeroing) inside one chunk: header, data, and a BLAKE3 tag over
both. Rules kept:
- `append` returns only after the record is on disk (fdatasync); concurrent appends share
  one sync (group commit), which is what makes queue depth pay off;
- a record is applied whole or not at all: replay stops at the first record whose tag
  does not match (a torn tail after kill -9) and cuts the file there, so a later append
  never follows garbage; a failed append is cut off the same way;
- the log is a series of segments: a flush first starts a new segment, then takes the
  dirty chunks; once they are committed in the service the older segments are deleted
  (what they hold is in the service now), so the log never needs rewriting.
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
    """Segments `DIR/NNNNNNNN.log`, replayed in order; appends go to the newest."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._seq, self._fd, self._end = 0, -1, 0
        self._lock = asyncio.Lock()
        self._pending: list[tuple[bytes, asyncio.Future]] = []
        self._committer: asyncio.Task | None = None

    def replay(self) -> list[Record]:
        """Every valid record, oldest segment first (a torn tail is cut off), then opens
        a fresh segment for appends."""
        records = []
        for seq in self._segments():
            records += _replay_segment(self._path(seq))
            self._seq = seq
        self._open(self._seq + 1)
        return records

    async def append(self, records: list[Record]) -> None:
        future = asyncio.get_running_loop().create_future()
        self._pending.append((b"".join(r.encode() for r in records), future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit())
        await future

    async def rotate(self) -> int:
        """Starts a new segment; returns its number. Every record appended before this
        returned is in an older segment, every later one in this or a newer one."""
        async with self._lock:
            old = self._fd
            await asyncio.to_thread(self._open, self._seq + 1)
            os.close(old)
            return self._seq

    def drop_before(self, seq: int) -> None:
        """Deletes the segments older than `seq` (their writes are committed in the
        service). A deletion a crash undoes only makes replay re-apply committed
        writes in their original order, which changes nothing."""
        for old in self._segments():
            if old < seq:
                os.unlink(self._path(old))

    def close(self) -> None:
        os.close(self._fd)

    def _segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.dir.glob("*.log") if p.stem.isdigit())

    def _path(self, seq: int) -> Path:
        return self.dir / f"{seq:08d}.log"

    def _open(self, seq: int) -> None:
        fd = os.open(self._path(seq), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        _fsync_dir(self.dir)        # the new segment's name must survive a crash
        self._seq, self._fd, self._end = seq, fd, 0

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


def _replay_segment(path: Path) -> list[Record]:
    raw = path.read_bytes()
    records, pos = [], 0
    while (record := _decode(raw, pos)) is not None:
        records.append(record[0])
        pos = record[1]
    if pos != len(raw):
        with open(path, "r+b") as f:
            f.truncate(pos)
            os.fsync(f.fileno())
    return records


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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
