"""Upload of a local image: one planner, N sender streams (see the package docstring).

The planner runs batches in order, so a later batch can only wait on an earlier one
(never the reverse): waiting for the stream that sends a shared token can not deadlock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field

from blockstore.v1 import data_plane_pb2 as dp
from clients.errors import BlockstoreError
from clients.retry import retryable
from clients.transfer.image import (DATA, REFERENCE, ZERO, Chunk, ImageReader,
                                    encode_many, hash_many)
from clients.transfer.remote import NoRemote, RemoteBlocks
from clients.transfer.stats import TransferStats
from clients.transfer.tuning import Tuning

Target = dp.UploadTarget | Callable[[], dp.UploadTarget]
HASH_GROUP = 8            # chunks read and hashed per worker call
ENCODE_GROUP = 16         # chunks encoded per worker call
Encoded = tuple[asyncio.Future, int]    # a group's encoding, the chunk's place in it


@dataclass
class Batch:
    chunks: list[Chunk]                 # to send, in offset order
    waits: list[asyncio.Future]         # streams that first send tokens this one references
    committed: asyncio.Future           # resolved with the commit number when it commits
    progress: int = 0                   # logical bytes this batch sends


@dataclass
class Claims:
    """Tokens this run sends as data, by the batch sending them, until the server has them."""

    by_token: dict[bytes, asyncio.Future] = field(default_factory=dict)
    commits: int = 0

    def prune(self, seen_commits: int) -> None:
        """Drop tokens committed before a FindMissingChunks call began: it accounts for them."""
        self.by_token = {t: f for t, f in self.by_token.items()
                         if not (f.done() and not f.exception() and f.result() <= seen_commits)}


class Uploader:
    def __init__(self, client, reader: ImageReader, target: Target, remote, tuning: Tuning,
                 executor: Executor, stats: TransferStats) -> None:
        self.client, self.reader, self.target, self.remote = client, reader, target, remote
        self.tuning, self.executor, self.stats = tuning, executor, stats
        self.claims = Claims()
        self.stop = asyncio.Event()
        self.on_progress: Callable[[int], None] = lambda n: None
        self.on_commit: Callable[[TransferStats], Awaitable[None]] | None = None
        self.stop_after_streams: int | None = None

    async def run(self) -> None:
        """Plan and send until done, stopped, or the first failure (then cancel the rest)."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=1)
        planner = asyncio.create_task(self._plan_all(queue))
        senders = [asyncio.create_task(self._send_all(queue)) for _ in range(self.tuning.streams)]
        try:
            pending = {planner, *senders}
            while any(not s.done() for s in senders):
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()          # the first failure propagates from here
        finally:
            for task in (planner, *senders):
                task.cancel()
            await asyncio.gather(planner, *senders, return_exceptions=True)

    async def _plan_all(self, queue: asyncio.Queue) -> None:
        """Changed chunks, gathered across read batches into full streams, in order.

        Gathering matters for incremental runs: a few changed chunks spread over the
        whole image go out in one stream (one commit), not one small stream per batch.
        """
        size = self.tuning.batch_chunks(self.reader.chunk_size)
        count = self.reader.chunk_count()
        gathered: list[Chunk] = []
        for first in range(0, count, size):
            if self.stop.is_set():
                break
            gathered += await self._changed(range(first, min(count, first + size)))
            while len(gathered) >= size:
                await queue.put(await self._classify(gathered[:size]))
                gathered = gathered[size:]
        if gathered and not self.stop.is_set():
            await queue.put(await self._classify(gathered))
        for _ in range(self.tuning.streams):
            await queue.put(None)

    async def _changed(self, indexes: range) -> list[Chunk]:
        """The chunks of `indexes` that differ from the target (all, without a remote)."""
        loop = asyncio.get_running_loop()
        step = HASH_GROUP
        groups = await asyncio.gather(*(
            loop.run_in_executor(self.executor, hash_many, self.reader,
                                 range(i, min(indexes.stop, i + step)))
            for i in range(indexes.start, indexes.stop, step)))
        chunks = [c for group in groups for c in group]
        remote = await self.remote.upto(indexes.stop)
        changed = []
        for c in chunks:
            if self._unchanged(c, remote):
                self.stats.count_unchanged(c)
                self.on_progress(c.length)
            else:
                changed.append(c)
        return changed

    def _unchanged(self, chunk: Chunk, remote: dict) -> bool:
        if not self.remote.compares:
            return False
        if chunk.token is None:           # zeros: unchanged over a hole or written zeros
            return remote.get(chunk.index) is None
        return remote.get(chunk.index) == chunk.token

    async def _classify(self, chunks: list[Chunk]) -> Batch:
        """Zero, reference or data for each chunk; data only for tokens nobody has."""
        batch = Batch(chunks, [], asyncio.get_running_loop().create_future())
        seen_commits = self.claims.commits
        tokens = {c.token for c in chunks if c.token is not None}
        missing = set(await self.client.find_missing_chunks(tokens)) if tokens else set()
        self.claims.prune(seen_commits)
        for c in chunks:
            batch.progress += c.length
            if c.token is None:
                c.kind = ZERO
            elif (claim := self.claims.by_token.get(c.token)) is not None:
                c.kind = REFERENCE            # sent by an earlier stream of this run, or by this one
                if claim is not batch.committed and not claim.done():
                    batch.waits.append(claim)
            elif c.token in missing:
                c.kind = DATA
                self.claims.by_token[c.token] = batch.committed
            else:
                c.kind = REFERENCE
            if c.kind != DATA:
                c.data = None
        return batch

    async def _send_all(self, queue: asyncio.Queue) -> None:
        while (batch := await queue.get()) is not None and not self.stop.is_set():
            try:
                await self._send(batch)
            except asyncio.CancelledError:
                batch.committed.cancel()
                raise
            except BaseException as err:
                batch.committed.set_exception(err)
                batch.committed.exception()       # retrieved: dependants see it, not the loop
                raise

    async def _send(self, batch: Batch) -> None:
        for wait in batch.waits:
            await wait
        loop = asyncio.get_running_loop()
        level = self.tuning.compress_level
        # All encodes are queued at once (the pool bounds them); the stream sends each
        # block as soon as it is ready, so the server works while the client encodes.
        encoded: list[Encoded] = []
        for first in range(0, len(batch.chunks), ENCODE_GROUP):
            group = batch.chunks[first:first + ENCODE_GROUP]
            fut = loop.run_in_executor(self.executor, encode_many, group, level)
            encoded += [(fut, i) for i in range(len(group))]
        try:
            reply = await self._stream(batch, encoded)
        finally:
            for fut, _ in encoded:
                fut.cancel()
        for c in batch.chunks:
            self.stats.count_block(c.kind, c.length, c.sent)
        self.stats.add_reply(reply)
        self.claims.commits += 1
        batch.committed.set_result(self.claims.commits)
        self.on_progress(batch.progress)
        if self.stop_after_streams is not None and self.stats.streams >= self.stop_after_streams:
            self.stop.set()
        if self.on_commit:
            await self.on_commit(self.stats)

    async def _stream(self, batch: Batch,
                      encoded: list[Encoded]) -> dp.UploadBlocksResponse:
        """One stream; re-sent whole on a transient failure (it committed nothing)."""
        policy = self.client.retry

        async def blocks():
            for c, (fut, i) in zip(batch.chunks, encoded):
                block = (await fut)[i]
                c.data = None             # the block holds it now (compressed, if smaller)
                yield block

        refs_resent = False
        for attempt in range(policy.max_attempts):
            target = dp.UploadTarget()
            target.CopyFrom(self.target() if callable(self.target) else self.target)
            target.block_count = len(encoded)
            try:
                return await self.client.upload_blocks(target, blocks())
            except BlockstoreError as err:
                if err.reason == "UNKNOWN_CHUNK_TOKEN" and not refs_resent:
                    # A chunk FindMissingChunks promised was collected or quarantined
                    # since: send the bytes instead (this also heals a quarantined chunk).
                    refs_resent = True
                    await self._references_as_data(batch, encoded)
                    continue
                if not retryable(err) or attempt + 1 == policy.max_attempts:
                    raise
                await policy.sleep(policy.delay(attempt, err.retry_delay))
        raise AssertionError("unreachable")

    async def _references_as_data(self, batch: Batch, encoded: list[Encoded]) -> None:
        """Re-read the batch's referenced chunks from the image and encode them as data."""
        loop = asyncio.get_running_loop()
        for i, c in enumerate(batch.chunks):
            if c.kind != REFERENCE:
                continue
            fresh = await loop.run_in_executor(self.executor, self.reader.hash, c.index)
            if fresh.token != c.token:
                raise RuntimeError(f"the image changed at offset {c.offset} during the upload")
            c.kind, c.data = DATA, fresh.data
            encoded[i] = (loop.run_in_executor(self.executor, encode_many, [c],
                                               self.tuning.compress_level), 0)


async def upload_image(client, path: str, volume_size: int, chunk_size: int, target: Target,
                       executor: Executor | None = None, *, tuning: Tuning = Tuning(),
                       compare_with: dict | None = None,
                       on_progress: Callable[[int], None] | None = None,
                       on_commit: Callable[[TransferStats], Awaitable[None]] | None = None,
                       stop_after_streams: int | None = None) -> TransferStats:
    """Write the image at `path` into `target`, laid out in `chunk_size` chunks.

    `compare_with` ({"volume_id": ...} or {"snapshot_id": ...}) names what the target
    holds now; chunks equal to it are skipped. Without it every chunk is sent.
    `stop_after_streams` ends the upload (cleanly, as after Ctrl-C) once that many
    streams committed; `TransferStats.streams` tells how far it got.
    """
    reader = ImageReader(path, volume_size, chunk_size)
    own = executor is None
    executor = executor or ThreadPoolExecutor(tuning.thread_count())
    remote = RemoteBlocks(client, chunk_size, **compare_with) if compare_with else NoRemote()
    stats = TransferStats()
    up = Uploader(client, reader, target, remote, tuning, executor, stats)
    up.on_progress = on_progress or up.on_progress
    up.on_commit, up.stop_after_streams = on_commit, stop_after_streams
    try:
        await up.run()
    finally:
        await remote.close()
        reader.close()
        if own:
            executor.shutdown(wait=False, cancel_futures=True)
    return stats.finish()
