"""Primary mode: the volume in the service is the disk; a local cache makes it fast.

Data model: a chunk is either dirty (its whole current content in memory, `None` for all
zeros, and every write to it in the write-back log) or clean (the service's token for it,
its bytes maybe in the chunk cache). Rules kept:
- a write is acknowledged only after its log record is durable (read-modify-write makes
  a partial write a whole-chunk state in memory; the log holds the write itself);
- FLUSH and FUA commit every dirty chunk (in as few UploadBlocks streams as the service's
  cap allows, each atomic), then drop from the dirty set only the chunks no write touched
  meanwhile, then drop the log segments written before the commit began (`wal`); if a
  stream fails the FLUSH fails with EIO, every dirty chunk stays dirty and every segment
  stays (re-sending a chunk an earlier stream committed changes nothing);
- replay on start applies the log's whole records in order onto the service's state, so
  a crash never leaves half a write inside a chunk.
"""

from __future__ import annotations

import asyncio
import logging

from clients.gateway.basis import Basis, StaleLog
from clients.gateway.cache import ChunkCache
from clients.gateway.clean import CleanChunks
from clients.gateway.disk import io_error
from clients.gateway.remote import ZERO, RemoteVolume
from clients.gateway.status import Stats
from clients.gateway.wal import Record, WriteLog

log = logging.getLogger("blockstore.gateway")


class CachedVolume:
    def __init__(self, remote: RemoteVolume, cache: ChunkCache, wlog: WriteLog, stats: Stats,
                 stream_at: int = 8 << 20, write_back_at: int = 32 << 20,
                 dirty_limit: int = 256 << 20) -> None:
        self.remote, self.cache, self.log, self.stats = remote, cache, wlog, stats
        self.clean = CleanChunks(remote, cache, stats)
        self.layout, self.size = remote.layout, remote.layout.size
        self.dirty: dict[int, bytearray | None] = {}
        self._gen: dict[int, int] = {}
        self._flush_lock = asyncio.Lock()
        self._background: asyncio.Task | None = None
        self.stream_at, self.write_back_at, self.dirty_limit = stream_at, write_back_at, dirty_limit
        self._whole: set[int] = set()       # dirty chunks some write replaced whole

    async def open(self, basis: Basis) -> int:
        """Replays the write-back log; returns how many records it applied. Refuses
        (StaleLog) a log written against another state of the volume (see `basis`)."""
        self.basis = basis
        records = self.log.replay()
        allowed = basis.allowed()
        if records and allowed is not None and self.remote.digest not in allowed:
            raise StaleLog(
                f"the write-back log in {self.log.dir} holds {len(records)} unflushed writes "
                f"made before volume {self.remote.volume_id} was changed by another writer; "
                f"replaying them would overwrite newer data. Move {self.log.dir} aside to "
                "discard them and start again")
        for record in records:
            await self._prepare(record)
            self._apply(record)
        if not records:
            basis.save(self.remote.digest)
        return len(records)

    async def read(self, offset: int, length: int) -> bytes:
        return b"".join([await self._read(i, s, n) for i, s, n in self._pieces(offset, length)])

    def read_now(self, offset: int, length: int) -> bytes | None:
        """The bytes if every piece is in memory or in the cache (no fetch), else None."""
        parts = []
        for index, start, n in self._pieces(offset, length):
            part = self._local(index, start, n)
            if part is None:
                return None
            parts.append(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def write(self, offset: int, data: bytes, fua: bool = False) -> None:
        records, pos = [], 0
        for index, start, n in self._pieces(offset, len(data)):
            records.append(Record(index, start, n, data[pos:pos + n]))
            pos += n
        await self._log(records, fua)

    async def zero(self, offset: int, length: int, fua: bool = False) -> None:
        records = [Record(i, s, n, None) for i, s, n in self._pieces(offset, length)
                   if not self._already_zero(i, s, n)]
        await self._log(records, fua)

    async def flush(self) -> None:
        async with self._flush_lock:
            await self._commit(None)

    async def _commit(self, only: list[int] | None) -> None:
        """Commits every dirty chunk (only=None: a FLUSH, which also retires the log's
        older segments) or just the given ones (early write-back; their records stay in
        the log, where replaying them onto the committed state changes nothing)."""
        if not self.dirty:
            return
        if only is None:
            segment = await self.log.rotate()   # first: every write logged before is taken
        indices = list(self.dirty) if only is None else [i for i in only if i in self.dirty]
        taken = {i: (self._gen[i], None if self.dirty[i] is None else bytes(self.dirty[i]))
                 for i in indices}
        try:
            tokens = await self.remote.commit({i: d for i, (_, d) in taken.items()},
                                              before=self._pending)
        except Exception as err:
            self.stats.flush_errors += 1
            self.stats.last_error = f"flush: {err}"
            raise io_error(f"committing {len(taken)} dirty chunks of volume "
                           f"{self.remote.volume_id} failed: {err}") from err
        for index, (gen, data) in taken.items():
            if tokens[index] != ZERO and data is not None:
                self.cache.put_verified(tokens[index], data)
            if self._gen.get(index) == gen:
                del self.dirty[index], self._gen[index]
                self._whole.discard(index)
        self.stats.flushes += only is None
        self.stats.chunks_uploaded += len(taken)
        self.basis.save(self.remote.digest)
        if only is None:
            self.log.drop_before(segment)
        self._count()

    async def _pending(self, digest: int) -> None:
        await asyncio.to_thread(self.basis.save, self.remote.digest, digest)

    async def _log(self, records: list[Record], fua: bool) -> None:
        for record in records:
            await self._prepare(record)
        for record in records:
            self._apply(record)
        self._count()
        try:
            await self.log.append(records)
        except OSError as err:
            raise io_error(f"write-back log: {err.strerror}") from err
        if fua:
            await self.flush()
        elif (len(self._whole) * self.layout.chunk_size >= self.stream_at
              or len(self.dirty) * self.layout.chunk_size > self.write_back_at):
            await self._write_back()

    async def _write_back(self) -> None:
        """Early, background commits so a later FLUSH finds little left: chunks written
        whole (a sequential stream: no read-modify-write was needed, nothing to wait for)
        once `stream_at` of them are dirty, everything once `write_back_at` is dirty.
        Writers wait only beyond `dirty_limit` (memory)."""
        if self._background is None or self._background.done():
            self._background = asyncio.create_task(self._commit_quietly())
        if len(self.dirty) * self.layout.chunk_size > self.dirty_limit:
            await asyncio.shield(self._background)

    async def _commit_quietly(self) -> None:
        try:
            async with self._flush_lock:
                everything = len(self.dirty) * self.layout.chunk_size > self.write_back_at
                await self._commit(None if everything else sorted(self._whole))
        except Exception as err:  # the data stays dirty and logged; the next FLUSH retries
            log.warning("gateway: background write-back failed: %s", err)

    async def _prepare(self, record: Record) -> None:
        """Read-modify-write: a partial write to a clean chunk needs its bytes first."""
        whole = record.start == 0 and record.length == self.layout.length(record.index)
        if whole or record.index in self.dirty:
            return
        base = await self.clean.whole(record.index)
        if record.index not in self.dirty:          # no other write got there meanwhile
            self.dirty[record.index] = bytearray(base) if base else None
            self._gen[record.index] = 0

    def _apply(self, record: Record) -> None:
        index, length = record.index, self.layout.length(record.index)
        if record.start == 0 and record.length == length:
            self.dirty[index] = None if record.data is None else bytearray(record.data)
            self._whole.add(index)
        else:
            buf = self.dirty[index]
            if buf is None:
                buf = self.dirty[index] = bytearray(length)
            buf[record.start:record.start + record.length] = record.data or bytes(record.length)
        self._gen[index] = self._gen.get(index, 0) + 1

    def _local(self, index: int, start: int, n: int) -> bytes | None:
        if index in self.dirty:
            data = self.dirty[index]
            return bytes(n) if data is None else bytes(data[start:start + n])
        return self.clean.local(index, start, n)

    async def _read(self, index: int, start: int, n: int) -> bytes:
        if index in self.dirty:
            return self._local(index, start, n)
        return await self.clean.read(index, start, n)

    def _already_zero(self, index: int, start: int, n: int) -> bool:
        whole = start == 0 and n == self.layout.length(index)
        if index in self.dirty:
            return whole and self.dirty[index] is None
        return whole and not self.remote.tokens.get(index)

    def _pieces(self, offset: int, length: int):
        cs, end = self.layout.chunk_size, offset + length
        while offset < end:
            index, start = divmod(offset, cs)
            n = min(cs - start, end - offset)
            yield index, start, n
            offset += n

    def _count(self) -> None:
        self.stats.dirty_chunks = len(self.dirty)
        last = self.layout.chunks - 1
        short = self.layout.chunk_size - self.layout.length(last) if last in self.dirty else 0
        self.stats.dirty_bytes = len(self.dirty) * self.layout.chunk_size - short
        self.stats.cache_bytes = self.cache.used
