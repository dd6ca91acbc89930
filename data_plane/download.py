"""DownloadBlocks: byte ranges of a volume or snapshot, verified before they leave.

Each range is cut at chunk boundaries. Holes and ZERO rows come back as `zero` pieces
(adjacent ones merged into one message, so a sparse terabyte costs a few messages).
A data piece is read from the chunk store, which checks it against its BLAKE3 before
handing it out; a chunk that fails is DATA_LOSS, never wrong bytes, and is moved to the
store's quarantine so that the next upload of that data stores it afresh (an upload
only checks that an existing chunk file is there, not its payload). A whole chunk
stored as zstd goes out as stored when the client accepts zstd. Up to
`download_window` chunk reads run ahead of the client.

Garbage collection and readers (data_plane/operations.py): a download is recorded as an
active operation in the write transaction that resolves its view, so compaction keeps
every row it reads and GC keeps every chunk such a row named while it runs, even one
overwritten or deleted meanwhile. A reader therefore gets each block as it was when its
row was resolved. A chunk that is nevertheless missing is classified, not quarantined:
if the row moved on, or the download's record was purged (it outlived its expiry), the
old data was garbage-collected and the caller may retry (ABORTED `CHUNK_COLLECTED`);
only a row that still names a vanished chunk is DATA_LOSS.
"""

from __future__ import annotations

import asyncio
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import AsyncIterator

import blake3

from blockstore.errors import (BlockOutOfRange, ChunkCollected, ChunkCorrupt, ChunkMissing,
                               DownloadTooLarge, InvalidArgument)
from chunkstore import ChunkStore, Compression, Recheck, recheck
from data_plane.account_turns import AccountTurns
from data_plane.config import DataPlaneConfig
from data_plane.operations import Operation, Operations
from data_plane.views import View, rows_in, source_view
from manifest import ManifestStore, ManifestTx

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


async def _still_recorded(tx: ManifestTx, view: View, op: Operation) -> None:
    if not await tx.operation_alive(op.op_id):
        raise ChunkCollected(f"the download of {view.name} outlived its record as an active "
                             "operation, so garbage collection may have taken data it reads; "
                             "retry the download")


def check_work(view: View, ranges: list[tuple[int, int]], limit: int) -> None:
    """Refuses a call spanning more than `limit` chunk positions over all its ranges."""
    cs = view.chunk_size
    spanned = sum((o + n - 1) // cs - o // cs + 1 for o, n in ranges)
    if spanned > limit:
        raise DownloadTooLarge(f"the download of {view.name} spans {spanned} chunks; one "
                               f"DownloadBlocks call may span at most {limit}: split it into "
                               "several calls", limit=limit)


async def pieces(store: ManifestStore, view: View, offset: int, length: int,
                 op: Operation) -> AsyncIterator[Piece]:
    """The range cut at chunk boundaries, zero runs merged.

    Walks the written rows only (pages of `ROWS_PER_QUERY`, each in a short read
    transaction); the gaps between them are holes, so an unwritten terabyte costs one
    query and one zero piece.
    """
    cs, end = view.chunk_size, offset + length
    index, last = offset // cs, (end - 1) // cs
    zero_start = None                  # where the zero run being merged began
    cursor = offset                    # everything before it has been accounted for
    while index <= last:
        async with store.read() as tx:
            await _still_recorded(tx, view, op)
            rows = await rows_in(tx, view, index, last, ROWS_PER_QUERY)
        for row in rows:
            lo, hi = max(offset, row.chunk_index * cs), min(end, (row.chunk_index + 1) * cs)
            if zero_start is None and lo > cursor:
                zero_start = cursor    # a hole before this row
            cursor = hi
            if row.token is None:
                zero_start = lo if zero_start is None else zero_start
                continue
            if zero_start is not None:
                yield Piece(zero_start, lo - zero_start, None, 0, 0)
                zero_start = None
            yield Piece(lo, hi - lo, row.token, row.chunk_index * cs,
                        view.block_length(row.chunk_index))
        if len(rows) < ROWS_PER_QUERY:
            break
        index = rows[-1].chunk_index + 1
    if zero_start is None and cursor < end:
        zero_start = cursor
    if zero_start is not None:
        yield Piece(zero_start, end - zero_start, None, 0, 0)


class Downloader:
    def __init__(self, store: ManifestStore, chunks: ChunkStore, executor: Executor,
                 config: DataPlaneConfig, operations: Operations) -> None:
        self.store, self.chunks, self.executor, self.config = store, chunks, executor, config
        self.operations = operations
        self.turns = AccountTurns(config.max_downloads_per_account)

    async def blocks(self, account_id: str, volume_id: str, snapshot_id: str,
                     ranges: list[tuple[int, int]], accept_zstd: bool
                     ) -> AsyncIterator[BlockOut]:
        async with self.operations.running("download") as op:
            async with self.store.write() as tx:
                view = await source_view(tx, account_id, volume_id, snapshot_id)
                # Checked before anything is written and before the call waits its turn:
                # a refused call costs a rolled-back transaction, no commit, no wait.
                ranges = self.plan(view, ranges)
                await self.operations.record(tx, op, view.name, view.vid, view.version)
            async with self.turns.turn(account_id):
                async for block in self._blocks(view, op, ranges, accept_zstd):
                    yield block

    def plan(self, view: View, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The checked ranges of a call (all of the view if none), within the bounds."""
        ranges = check_ranges(view, ranges, self.config.max_ranges)
        check_work(view, ranges, self.config.max_download_chunks)
        return ranges

    async def _blocks(self, view: View, op: Operation, ranges: list[tuple[int, int]],
                      accept_zstd: bool) -> AsyncIterator[BlockOut]:
        ahead: deque[asyncio.Task] = deque()
        # Consecutive pieces of one chunk (many small ranges over it) share one read and
        # verification of that chunk instead of one each.
        fetch: tuple[bytes, asyncio.Task] | None = None
        try:
            for offset, length in ranges:
                async for piece in pieces(self.store, view, offset, length, op):
                    if piece.token is not None and (fetch is None or fetch[0] != piece.token):
                        fetch = (piece.token,
                                 asyncio.ensure_future(self._fetch(view, op, piece)))
                        fetch[1].add_done_callback(_retrieved)
                    chunk = fetch[1] if piece.token is not None and fetch else None
                    ahead.append(asyncio.create_task(self._read(piece, accept_zstd, chunk)))
                    if len(ahead) >= self.config.download_window:
                        yield await ahead.popleft()
            while ahead:
                yield await ahead.popleft()
        finally:
            for task in (*ahead, *([fetch[1]] if fetch else [])):
                task.cancel()
            await asyncio.gather(*ahead, *([fetch[1]] if fetch else []),
                                 return_exceptions=True)

    async def _read(self, piece: Piece, accept_zstd: bool,
                    fetch: asyncio.Task | None) -> BlockOut:
        if piece.token is None or fetch is None:
            return BlockOut(piece.offset, piece.length, zero=True)
        chunk = await asyncio.shield(fetch)       # shared: one reader's cancel is not all's
        return await self._piece_out(piece, accept_zstd, chunk)

    async def _fetch(self, view: View, op: Operation, piece: Piece):
        assert piece.token is not None
        try:
            return await self.chunks.get(piece.token)
        except ChunkMissing as err:
            raise await self._missing(view, op, piece, err) from None
        except ChunkCorrupt as err:
            await self._quarantine(piece.token)
            raise ChunkCorrupt(f"{view.name}: block at offset {piece.chunk_offset} cannot be "
                               f"read: {err.message}", offset=piece.chunk_offset,
                               token=piece.token.hex()) from None

    async def _piece_out(self, piece: Piece, accept_zstd: bool, chunk) -> BlockOut:
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

    async def _missing(self, view: View, op: Operation, piece: Piece,
                       err: ChunkMissing) -> Exception:
        """Collected under a reader that was not protected (module docstring), or lost."""
        index = piece.chunk_offset // view.chunk_size
        async with self.store.read() as tx:
            recorded = await tx.operation_alive(op.op_id)
            now = [r.token for r in await rows_in(tx, view, index, index)]
        where = f"{view.name}: block at offset {piece.chunk_offset}"
        if not recorded or now != [piece.token]:
            return ChunkCollected(f"{where} changed while this download ran and its old chunk "
                                  f"{piece.token.hex()} was garbage-collected; retry the "
                                  "download", offset=piece.chunk_offset,
                                  token=piece.token.hex())
        return ChunkMissing(f"{where} cannot be read: {err.message}",
                            offset=piece.chunk_offset, token=piece.token.hex())

    async def _quarantine(self, token: bytes) -> None:
        """Move a rotten chunk aside, unless a concurrent upload has just replaced it."""
        if await recheck(self.chunks, token) is not Recheck.QUARANTINED:
            return
        # Forget it in every account too: FindMissingChunks then says "missing" and the
        # next upload of this data sends the bytes, which heals every row naming it.
        async with self.store.write() as tx:
            await tx.delete_chunk_rows([token])


def _retrieved(task: asyncio.Task) -> None:
    """A shared read's error reaches its pieces; if the call ended first, nobody's."""
    if not task.cancelled():
        task.exception()


def _blake3(data: bytes) -> bytes:
    return blake3.blake3(data).digest()
