"""DownloadBlocks: byte ranges of a volume or snapshot, verified before they leave.

Each range is cut at chunk boundaries. Holes and ZERO rows come back as `zero` pieces
(adjacent ones merged into one message, so a sparse terabyte costs a few messages).
A data piece is read from the chunk store, which checks it against its BLAKE3 before
handing it out; a chunk that fails is DATA_LOSS, never wrong bytes, and is moved to the
store's quarantine so that the next upload of that data stores it afresh (an upload
only checks that an existing chunk file is there, not its payload). A whole chunk
stored as zstd goes out as stored when the client accepts zstd. Up to
`download_window` chunk reads run ahead of the client.
"""

from __future__ import annotations

import asyncio
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import AsyncIterator

import blake3

from blockstore.errors import BlockOutOfRange, ChunkCorrupt, ChunkMissing, InvalidArgument
from chunkstore import ChunkStore, Compression, Recheck, recheck
from data_plane.config import DataPlaneConfig
from data_plane.views import View, rows_in
from manifest import ManifestStore

ROWS_PER_QUERY = 256


@dataclass(frozen=True)
class BlockOut:
    offset: int
    length: int
    checksum: bytes = b""
    compression: Compression = Compression.NONE
    data: bytes = b""
    zero: bool = False


@dataclass(frozen=True)
class Piece:
    offset: int
    length: int
    token: bytes | None           # None: zeros
    chunk_offset: int             # where the chunk starts
    block_length: int             # the chunk's length in this view


def check_ranges(view: View, ranges: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    if len(ranges) > limit:
        raise InvalidArgument(f"{len(ranges)} ranges requested; at most {limit} per call")
    if not ranges:
        return [(0, view.size_bytes)]
    for offset, length in ranges:
        if offset < 0 or length <= 0 or offset + length > view.size_bytes:
            raise BlockOutOfRange(f"range offset {offset} length {length} is outside "
                                  f"{view.name} ({view.size_bytes} bytes)", offset=offset)
    return ranges


async def pieces(store: ManifestStore, view: View, offset: int,
                 length: int) -> AsyncIterator[Piece]:
    """The range cut at chunk boundaries, zero runs merged."""
    cs, end = view.chunk_size, offset + length
    index, last = offset // cs, (end - 1) // cs
    zero_start = None
    while index <= last:
        stop = min(last, index + ROWS_PER_QUERY - 1)
        async with store.read() as tx:
            rows = {r.chunk_index: r.token for r in await rows_in(tx, view, index, stop)}
        for i in range(index, stop + 1):
            lo, hi = max(offset, i * cs), min(end, (i + 1) * cs)
            token = rows.get(i)
            if token is None:
                zero_start = lo if zero_start is None else zero_start
                continue
            if zero_start is not None:
                yield Piece(zero_start, lo - zero_start, None, 0, 0)
                zero_start = None
            yield Piece(lo, hi - lo, token, i * cs, view.block_length(i))
        index = stop + 1
    if zero_start is not None:
        yield Piece(zero_start, end - zero_start, None, 0, 0)


class Downloader:
    def __init__(self, store: ManifestStore, chunks: ChunkStore, executor: Executor,
                 config: DataPlaneConfig) -> None:
        self.store, self.chunks, self.executor, self.config = store, chunks, executor, config

    async def blocks(self, view: View, ranges: list[tuple[int, int]],
                     accept_zstd: bool) -> AsyncIterator[BlockOut]:
        ranges = check_ranges(view, ranges, self.config.max_ranges)
        ahead: deque[asyncio.Task] = deque()
        try:
            for offset, length in ranges:
                async for piece in pieces(self.store, view, offset, length):
                    ahead.append(asyncio.create_task(self._read(view, piece, accept_zstd)))
                    if len(ahead) >= self.config.download_window:
                        yield await ahead.popleft()
            while ahead:
                yield await ahead.popleft()
        finally:
            for task in ahead:
                task.cancel()
            await asyncio.gather(*ahead, return_exceptions=True)

    async def _read(self, view: View, piece: Piece, accept_zstd: bool) -> BlockOut:
        if piece.token is None:
            return BlockOut(piece.offset, piece.length, zero=True)
        try:
            chunk = await self.chunks.get(piece.token)
        except ChunkCorrupt as err:
            if not isinstance(err, ChunkMissing):
                await self._quarantine(piece.token)
            raise type(err)(f"{view.name}: block at offset {piece.chunk_offset} cannot be read: "
                            f"{err.message}", offset=piece.chunk_offset,
                            token=piece.token.hex()) from None
        whole = piece.offset == piece.chunk_offset and piece.length == piece.block_length
        if whole and chunk.plain_length == piece.block_length:
            if accept_zstd and chunk.compression is Compression.ZSTD:
                return BlockOut(piece.offset, piece.length, piece.token, Compression.ZSTD,
                                chunk.payload)
            return BlockOut(piece.offset, piece.length, piece.token, Compression.NONE,
                            chunk.plain)
        # A partial piece, or a clone's view of a shorter source chunk (padded with zeros).
        start = piece.offset - piece.chunk_offset
        data = chunk.plain[start:start + piece.length]
        data += bytes(piece.length - len(data))
        loop = asyncio.get_running_loop()
        checksum = await loop.run_in_executor(self.executor, _blake3, data)
        return BlockOut(piece.offset, piece.length, checksum, Compression.NONE, data)

    async def _quarantine(self, token: bytes) -> None:
        """Move a rotten chunk aside, unless a concurrent upload has just replaced it."""
        if await recheck(self.chunks, token) is not Recheck.QUARANTINED:
            return
        # Forget it in every account too: FindMissingChunks then says "missing" and the
        # next upload of this data sends the bytes, which heals every row naming it.
        async with self.store.write() as tx:
            await tx.delete_chunk_rows([token])


def _blake3(data: bytes) -> bytes:
    return blake3.blake3(data).digest()
