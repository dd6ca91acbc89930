"""Download of a volume or snapshot into a file descriptor, every block verified.

Zero blocks (holes and written zeros, which the server merges into runs) are skipped
when the output is known to be zeros there (a fresh, pre-sized sparse file); otherwise
(`fill_zeros`: a block device, or an old copy being updated) they are punched out of a
regular file or written as zeros.

Per block: one worker-thread call decodes, verifies and writes it; its bytes are read
from the gRPC message in place (clients/transfer/wire.py), never copied on the way.
A stream asks for its next range as soon as the previous one has arrived, its writes
still running (at most `Tuning.window` blocks pending per stream): a range arrives
faster than it is written, and waiting for its ~50 writes before asking again left
that stream's server side idle for 0.1-0.6 s per 51 MiB range (measured at load 16). Each range whose blocks are all written
goes to the kernel's writeback at once (clients/transfer/output.py), so the caller's
closing fsync has little left to write.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

import blake3
import grpc
import zstandard

from blockstore.compressible import decompressor
from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import data_plane_pb2 as dp
from clients.errors import BlockstoreError, DataLoss
from clients.retry import retryable
from clients.transfer.output import can_punch, fill_zeros, start_writeback
from clients.transfer.stats import TransferStats
from clients.transfer.tuning import MIB, Tuning
from clients.transfer.wire import WireBlock, parse_block

VERIFY_REASON = "CLIENT_VERIFICATION_FAILED"


def verify_block(block: dp.DownloadBlocksResponse | WireBlock, source: str = "",
                 data: bytes | memoryview | None = None) -> bytes | memoryview:
    """The block's plain bytes, once they match its BLAKE3; b"" for a zero block.
    `data`: `block.data` if the caller already read it (each read of a generated
    message's field copies)."""
    if block.zero:
        return b""
    data = block.data if data is None else data
    try:
        if block.compression == pb.COMPRESSION_ZSTD:
            data = decompressor().decompress(data, max_output_size=block.length)
    except zstandard.ZstdError as err:
        raise _corrupt(block, source, f"does not decompress ({err})") from None
    if len(data) != block.length or blake3.blake3(data).digest() != block.checksum:
        raise _corrupt(block, source, "failed its BLAKE3 check")
    return data


@dataclass(frozen=True)
class _Written:
    """In a stream's pending writes: every block of this request is before it."""

    offset: int
    length: int


def _parsed(raw: bytes, source: str) -> WireBlock:
    try:
        return parse_block(raw)
    except ValueError as err:
        raise DataLoss(grpc.StatusCode.DATA_LOSS, VERIFY_REASON,
                       f"a block message of {source} does not parse ({err})", {}) from None


def _corrupt(block, source: str, what: str) -> DataLoss:
    where = f" of {source}" if source else ""
    return DataLoss(grpc.StatusCode.DATA_LOSS, VERIFY_REASON,
                    f"block at offset {block.offset} ({block.length} bytes){where} {what}",
                    {"offset": str(block.offset)})


def changed_ranges(offsets: Iterable[int], chunk_size: int, size: int) -> list[tuple[int, int]]:
    """Ascending chunk offsets coalesced into (offset, length) byte ranges inside `size`."""
    ranges: list[list[int]] = []
    for offset in offsets:
        length = min(chunk_size, size - offset)
        if ranges and ranges[-1][0] + ranges[-1][1] == offset:
            ranges[-1][1] += length
        else:
            ranges.append([offset, length])
    return [(o, n) for o, n in ranges]


def split_ranges(ranges: Iterable[tuple[int, int]], span: int) -> list[tuple[int, int]]:
    """Ranges cut into pieces of at most `span` bytes: one download request each."""
    pieces = []
    for offset, length in ranges:
        for start in range(offset, offset + length, span):
            pieces.append((start, min(span, offset + length - start)))
    return pieces


async def download_to_fd(client, fd: int, size: int, executor: Executor | None = None, *,
                         volume_id: str | None = None, snapshot_id: str | None = None,
                         tuning: Tuning = Tuning(), chunk_size: int = MIB,
                         ranges: list[tuple[int, int]] | None = None,
                         fill: bool = False,
                         on_progress: Callable[[int], None] | None = None) -> TransferStats:
    """Write the source's bytes (all of it, or `ranges`) into `fd` at their offsets.

    `fill`: zero blocks are made zero in the output (it may hold old data); otherwise
    they are skipped, which leaves holes in a fresh sparse file.
    """
    own = executor is None
    executor = executor or ThreadPoolExecutor(tuning.thread_count())
    source = f"snapshot {snapshot_id}" if snapshot_id else f"volume {volume_id}"
    todo = deque(split_ranges(ranges if ranges is not None else [(0, size)],
                              tuning.span(chunk_size)))
    punch = fill and can_punch(fd)
    stats = TransferStats()
    loop = asyncio.get_running_loop()
    window = tuning.window(chunk_size)

    def write(block: WireBlock) -> tuple[bool, int, int]:
        """Verify and write one block in a worker thread; its data is a view into the
        message, never copied. Returns (zero, length, wire bytes)."""
        wire = block.data
        data = verify_block(block, source, wire)
        if data:
            os.pwrite(fd, data, block.offset)
        elif fill:
            fill_zeros(fd, block.offset, block.length, punch)
        return block.zero, block.length, len(wire)

    def count(done: tuple[bool, int, int]) -> None:
        zero, length, wire = done
        stats.count_block("zero" if zero else "data", length, wire)

    async def settle(pending: deque) -> None:
        """The oldest item of a stream's `pending`: a block's write (its offset joins its
        request's done set), or the end of a request whose blocks are all written."""
        item = pending.popleft()
        if isinstance(item, _Written):
            # The disk takes the range while the transfer goes on (per request, not per
            # block: each call costs kernel time).
            flushes.append(loop.run_in_executor(executor, start_writeback, fd, item.offset,
                                                item.length))
            stats.streams += 1
            if on_progress:
                on_progress(item.length)
            return
        done, offset, written = item
        count(await written)
        done.add(offset)

    async def receive(offset: int, length: int, done: set[int], pending: deque) -> None:
        """One request; blocks in `done` (written by an earlier attempt) are skipped. Its
        writes join the stream's `pending` and may still run when it returns, so the
        next request streams while they finish (the server is not left idle)."""
        async for raw in client.download_blocks(
                volume_id=volume_id, snapshot_id=snapshot_id, ranges=[(offset, length)],
                accept_compression=[pb.COMPRESSION_ZSTD], raw=True):
            block = _parsed(raw, source)
            if block.offset in done:
                continue
            pending.append((done, block.offset, loop.run_in_executor(executor, write, block)))
            if len(pending) >= window:
                await settle(pending)
        pending.append(_Written(offset, length))

    async def fetch(offset: int, length: int, pending: deque) -> None:
        """A transient failure (a data plane gone: the retry goes to another, see
        clients/planes.py) asks again for what is not written yet."""
        done: set[int] = set()
        policy = client.retry
        for attempt in range(policy.max_attempts):
            try:
                return await receive(offset, length, done, pending)
            except BlockstoreError as err:
                if not retryable(err) or attempt + 1 == policy.max_attempts:
                    raise
                while pending:          # `done` complete before asking again
                    await settle(pending)
                await policy.sleep(policy.delay(attempt, err.retry_delay))

    async def worker() -> None:
        pending: deque = deque()
        try:
            while todo:
                offset, length = todo.popleft()
                await fetch(offset, length, pending)
        finally:
            while pending:        # what arrived is written even if the stream then broke
                await settle(pending)

    flushes: list[asyncio.Future] = []
    tasks = [asyncio.create_task(worker()) for _ in range(tuning.streams)]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, *flushes, return_exceptions=True)
        if own:
            executor.shutdown(wait=False, cancel_futures=True)
    return stats.finish()
