"""Shadow mode, remote half: bootstrap, background upload, periodic snapshots.

Rules kept:
- bootstrap compares every local chunk (BLAKE3) with the volume's last state
  (ListBlocks) and marks only the differing ones dirty; it runs while I/O is served;
- an upload batch is one UploadBlocks stream; a chunk whose token the account already
  has (FindMissingChunks) goes as a reference, an all-zero one as `zero`, one equal to the
  service's copy not at all; a chunk is cleared only if no write touched it since it was
  read (generations), so the service converges on the local file;
- a failing upload keeps everything dirty and retries with backoff;
- a snapshot closes the write gate, drains the queue, then takes a POINT_IN_TIME
  snapshot, so it holds exactly the local disk at that moment.
"""

from __future__ import annotations

import asyncio
import logging

import blake3

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import data_plane_pb2 as dp
from clients.aio import AsyncClient
from clients.gateway.remote import ZERO, RemoteVolume
from clients.gateway.shadow import ShadowDisk
from clients.gateway.status import Stats

log = logging.getLogger("blockstore.gateway")
BATCH = 32
MAX_BACKOFF_S = 10.0


class ShadowSync:
    def __init__(self, client: AsyncClient, remote: RemoteVolume, disk: ShadowDisk,
                 stats: Stats) -> None:
        self.client, self.remote, self.disk, self.stats = client, remote, disk, stats
        self.layout, self.dirty = remote.layout, disk.dirty
        self.drained = asyncio.Event()

    async def bootstrap(self) -> int:
        """Marks every chunk whose local bytes differ from the service's; returns how many."""
        differ = 0
        for first in range(0, self.layout.chunks, BATCH):
            indices = range(first, min(first + BATCH, self.layout.chunks))
            tokens = await asyncio.to_thread(lambda: [self._local_token(i) for i in indices])
            stale = [i for i, t in zip(indices, tokens) if t != self.remote.tokens.get(i, ZERO)]
            if stale:
                self.dirty.mark(stale)
                self.disk.changed.set()
                differ += len(stale)
            self._count()
        self.stats.bootstrap_done = True
        return differ

    async def run(self) -> None:
        """Uploads dirty chunks until cancelled."""
        backoff = 0.5
        while True:
            if not self.dirty.dirty:
                self.drained.set()
                self.disk.changed.clear()
                await self.disk.changed.wait()
                continue
            self.drained.clear()
            try:
                await self._upload(sorted(self.dirty.dirty)[:BATCH])
                backoff = 0.5
            except Exception as err:
                self.stats.last_error = f"shadow upload: {err}"
                log.warning("gateway: shadow upload failed (retrying in %.1f s): %s", backoff, err)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
            self._count()

    async def snapshot(self, drain_timeout_s: float = 60.0) -> str:
        """A POINT_IN_TIME snapshot equal to the local disk at one moment. Writes wait
        while the queue drains; if it can not drain in time (service away), no snapshot
        is taken this time and writes go on (TimeoutError)."""
        self.disk.writes_open.clear()
        try:
            await asyncio.wait_for(self._drain(), drain_timeout_s)
            snap = await self.client.create_snapshot(self.remote.volume_id,
                                                     description="gateway shadow snapshot")
            self.stats.snapshots_taken += 1
            return snap.snapshot_id
        finally:
            self.disk.writes_open.set()

    async def _drain(self) -> None:
        self.disk.changed.set()
        while self.dirty.dirty:
            self.drained.clear()
            await self.drained.wait()

    async def snapshot_every(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                log.info("gateway: snapshot %s", await self.snapshot())
            except Exception as err:
                self.stats.last_error = f"snapshot: {err!r}"
                log.warning("gateway: periodic snapshot skipped: %r", err)

    async def _upload(self, indices: list[int]) -> None:
        gens = {i: self.dirty.gen.get(i, 0) for i in indices}
        chunks = await asyncio.to_thread(lambda: {i: self.disk.read_chunk(i) for i in indices})
        tokens = {i: _token(data) for i, data in chunks.items()}
        send = [i for i in indices if tokens[i] != self.remote.tokens.get(i, ZERO)]
        known = {t for t in {tokens[i] for i in send} if t != ZERO}
        known -= set(await self.client.find_missing_chunks(known)) if known else set()
        if send:
            blocks = [self._block(i, chunks[i], tokens[i], tokens[i] in known) for i in send]
            await self.client.upload_blocks(self.remote.target(), blocks)
            self.stats.chunks_uploaded += len(send)
        for i in indices:
            self.remote.set_token(i, tokens[i])
            self.dirty.clear(i, gens[i])

    def _block(self, index: int, data: bytes, token: bytes, known: bool) -> dp.UploadBlock:
        offset, length = index * self.layout.chunk_size, len(data)
        if token == ZERO:
            return dp.UploadBlock(offset=offset, length=length, zero=True)
        return dp.UploadBlock(offset=offset, length=length, checksum=token,
                              data=b"" if known else data, compression=pb.COMPRESSION_NONE)

    def _local_token(self, index: int) -> bytes:
        return _token(self.disk.read_chunk(index))

    def _count(self) -> None:
        self.stats.shadow_backlog_chunks = len(self.dirty.dirty)
        self.stats.shadow_backlog_bytes = len(self.dirty.dirty) * self.layout.chunk_size


def _token(data: bytes) -> bytes:
    return ZERO if data.count(0) == len(data) else blake3.blake3(data).digest()
