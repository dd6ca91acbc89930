"""Bulk transfer between local images and remote volumes or snapshots.

Upload of an image, per batch of chunks (one UploadBlocks stream, committed atomically):
1. a hashing pass (worker threads) gives each chunk's BLAKE3 token; all-zero chunks
   are marked zero;
2. FindMissingChunks says which tokens the account lacks, and `skip` (for incremental
   backups: the parent snapshot already has this token here) drops unchanged chunks;
3. the stream sends zeros as `zero`, known chunks as references, and only the missing
   ones as data (zstd when that saves bytes), re-read from the file, so memory stays
   bounded by `window` chunks per stream whatever the image size.
Several streams run at once. Downloads verify every block against its BLAKE3 before
writing it, skip zeros with seeks (sparse output) and run ranges in parallel.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable

import blake3
import zstandard

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import data_plane_pb2 as dp


@dataclass
class TransferStats:
    logical_bytes: int = 0
    sent_bytes: int = 0          # block data bytes put on the wire
    data_blocks: int = 0
    reference_blocks: int = 0
    zero_blocks: int = 0
    skipped_blocks: int = 0      # unchanged against a parent: not sent at all
    stored_bytes: int = 0        # what the server newly stored
    streams: int = 0
    tokens: dict[int, bytes | None] = field(default_factory=dict)  # chunk index -> token

    def add_reply(self, reply: dp.UploadBlocksResponse) -> None:
        self.stored_bytes += reply.bytes_stored
        self.streams += 1


@dataclass(frozen=True)
class Chunk:
    index: int
    offset: int
    length: int
    token: bytes | None          # None: all zeros


class ImageReader:
    """Positional reads of a local image (file or block device), from worker threads."""

    def __init__(self, path: str, size: int, chunk_size: int) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.size, self.chunk_size = size, chunk_size
        self._zeros = bytes(chunk_size)

    def close(self) -> None:
        os.close(self.fd)

    def read(self, index: int) -> bytes:
        offset = index * self.chunk_size
        length = min(self.chunk_size, self.size - offset)
        data = os.pread(self.fd, length, offset)
        return data.ljust(length, b"\0")

    def hash(self, index: int) -> Chunk:
        data = self.read(index)
        zero = data == self._zeros[:len(data)]
        return Chunk(index, index * self.chunk_size, len(data),
                     None if zero else blake3.blake3(data).digest())

    def block(self, chunk: Chunk, compress: bool, level: int = 1) -> dp.UploadBlock:
        data = self.read(chunk.index)
        if blake3.blake3(data).digest() != chunk.token:
            raise RuntimeError(f"chunk at offset {chunk.offset} changed while uploading")
        if compress:
            frame = zstandard.ZstdCompressor(level=level, write_content_size=True).compress(data)
            if len(frame) < len(data):
                return dp.UploadBlock(offset=chunk.offset, length=chunk.length,
                                      checksum=chunk.token, compression=pb.COMPRESSION_ZSTD,
                                      data=frame)
        return dp.UploadBlock(offset=chunk.offset, length=chunk.length, checksum=chunk.token,
                              compression=pb.COMPRESSION_NONE, data=data)


async def _map_ordered(executor: Executor, fn: Callable, items: list, window: int
                       ) -> AsyncIterator:
    """fn(item) in worker threads, at most `window` ahead, results in order."""
    loop = asyncio.get_running_loop()
    pending: deque = deque()
    it = iter(items)
    try:
        for item in it:
            pending.append(loop.run_in_executor(executor, fn, item))
            if len(pending) >= window:
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()
    finally:
        for fut in pending:
            fut.cancel()


async def hash_chunks(reader: ImageReader, indexes: list[int], executor: Executor,
                      window: int) -> list[Chunk]:
    return [c async for c in _map_ordered(executor, reader.hash, indexes, window)]


async def upload_batch(client, target: dp.UploadTarget, reader: ImageReader,
                       chunks: list[Chunk], missing: set[bytes], stats: TransferStats,
                       executor: Executor, *, compress: bool, window: int) -> None:
    """One UploadBlocks stream for `chunks`; sends data only for `missing` tokens."""
    data_for: set[int] = set()           # chunk indexes that carry data
    seen: set[bytes] = set()
    for c in chunks:                     # a repeated missing token is sent once, then referenced
        if c.token is not None and c.token in missing and c.token not in seen:
            seen.add(c.token)
            data_for.add(c.index)

    def make(c: Chunk) -> dp.UploadBlock:
        if c.token is None:
            return dp.UploadBlock(offset=c.offset, length=c.length, zero=True)
        if c.index in data_for:
            return reader.block(c, compress)
        return dp.UploadBlock(offset=c.offset, length=c.length, checksum=c.token)

    async def blocks() -> AsyncIterator[dp.UploadBlock]:
        async for block in _map_ordered(executor, make, chunks, window):
            if block.zero:
                stats.zero_blocks += 1
            elif block.data:
                stats.data_blocks += 1
                stats.sent_bytes += len(block.data)
            else:
                stats.reference_blocks += 1
            yield block

    reply = await client.upload_blocks(target, blocks())
    stats.add_reply(reply)
    stats.logical_bytes += sum(c.length for c in chunks)


async def upload_image(client, path: str, size: int, chunk_size: int,
                       target: Callable[[], dp.UploadTarget], executor: Executor, *,
                       streams: int = 2, batch: int = 64, compress: bool = False,
                       window: int = 4, skip: Callable[[Chunk], bool] | None = None,
                       on_progress: Callable[[int], None] | None = None) -> TransferStats:
    """Upload the image in batches of `batch` chunks, `streams` streams at a time."""
    reader = ImageReader(path, size, chunk_size)
    stats = TransferStats()
    count = -(-size // chunk_size)
    batches = deque(list(range(i, min(count, i + batch))) for i in range(0, count, batch))

    async def worker() -> None:
        while batches:
            indexes = batches.popleft()
            chunks = await hash_chunks(reader, indexes, executor, window)
            for c in chunks:
                stats.tokens[c.index] = c.token
            if skip:
                kept = [c for c in chunks if not skip(c)]
                stats.skipped_blocks += len(chunks) - len(kept)
                stats.logical_bytes += sum(c.length for c in chunks if c not in kept)
                chunks = kept
            if chunks:
                tokens = list({c.token for c in chunks if c.token is not None})
                missing = set(await client.find_missing_chunks(tokens)) if tokens else set()
                await upload_batch(client, target(), reader, chunks, missing, stats, executor,
                                   compress=compress, window=window)
            if on_progress:
                on_progress(sum(min(chunk_size, size - i * chunk_size) for i in indexes))

    try:
        await asyncio.gather(*(worker() for _ in range(streams)))
    finally:
        reader.close()
    return stats


class VerifyError(Exception):
    pass


def verify_block(block: dp.DownloadBlocksResponse) -> bytes:
    """The block's plain bytes, after checking them against its BLAKE3."""
    if block.zero:
        return b""
    data = block.data
    if block.compression == pb.COMPRESSION_ZSTD:
        data = zstandard.ZstdDecompressor().decompress(data, max_output_size=block.length)
    if len(data) != block.length or blake3.blake3(data).digest() != block.checksum:
        raise VerifyError(f"block at offset {block.offset} failed BLAKE3 verification")
    return data


async def download_to_fd(client, fd: int, size: int, executor: Executor, *,
                         volume_id: str | None = None, snapshot_id: str | None = None,
                         streams: int = 2, span: int = 64 << 20, window: int = 4,
                         ranges: list[tuple[int, int]] | None = None,
                         on_progress: Callable[[int], None] | None = None) -> TransferStats:
    """Write the volume or snapshot into `fd`; zero blocks are skipped (left as holes)."""
    stats = TransferStats()
    todo = deque(ranges if ranges is not None else
                 [(o, min(span, size - o)) for o in range(0, size, span)])
    loop = asyncio.get_running_loop()

    def write(block: dp.DownloadBlocksResponse) -> None:
        data = verify_block(block)
        if data:
            os.pwrite(fd, data, block.offset)

    async def worker() -> None:
        while todo:
            offset, length = todo.popleft()
            pending: deque = deque()
            async for block in client.download_blocks(
                    volume_id=volume_id, snapshot_id=snapshot_id, ranges=[(offset, length)],
                    accept_compression=[pb.COMPRESSION_ZSTD]):
                stats.sent_bytes += len(block.data)
                if block.zero:
                    stats.zero_blocks += 1
                else:
                    stats.data_blocks += 1
                pending.append(loop.run_in_executor(executor, write, block))
                if len(pending) >= window:
                    await pending.popleft()
            for fut in pending:
                await fut
            stats.logical_bytes += length
            if on_progress:
                on_progress(length)

    await asyncio.gather(*(worker() for _ in range(streams)))
    return stats
