"""PutSnapshotBlock and GetSnapshotBlock over the data plane's upload and download code.

A put's block is first checked against x-amz-Checksum (the body's SHA256, computed once
in a worker thread by the edge for SigV4 and reused here): a mismatch stores nothing.
Then, with the puts to the same snapshot that arrive meanwhile (ebs_facade/groups.py),
it is an UploadBlocks stream to the snapshot at its version: the same UploadSession
checks range and target, verifies BLAKE3, deduplicates, stores the chunks durably and
commits their rows in one manifest transaction, recorded as an active operation so GC
keeps what it relies on. A get is a DownloadBlocks of one block (the chunk store
verifies BLAKE3 before handing it out) and is served only if the block token names
what the snapshot holds at that index; the snapshot is the caller's own or one shared
with it with allow_export (the download's view checks export, data_plane/views.py).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from concurrent.futures import Executor
from typing import AsyncIterator, Protocol

import blake3

from blockstore.errors import InvalidArgument
from chunkstore import ChunkStore
from data_plane.blocks import BlockIn
from data_plane.config import DataPlaneConfig
from data_plane.download import Downloader
from data_plane.operations import Operations
from data_plane.stream_slots import StreamSlots
from data_plane.targets import check_target
from data_plane.upload import UploadSession
from ebs_facade.aggregate import linear_sha256
from ebs_facade.errors import BlockChecksumMismatch, InvalidBlockToken, SnapshotTimedOut
from ebs_facade.groups import PutGroups
from ebs_facade.model import BLOCK_SIZE, BlockData
from ebs_facade.snapshots import require_ebs_shape
from ebs_facade.timeouts import Timeouts
from ebs_facade.tokens import parse_block_token
from manifest import ManifestStore
from manifest.lookups import require_snapshot, visible_snapshot


def _blake3(data: bytes) -> bytes:
    return blake3.blake3(data).digest()


def _decode_checksum(text: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise InvalidArgument(f"x-amz-Checksum of {where} must be a base64 SHA256 digest")
    return raw


class DataPlaneParts(Protocol):
    """What a put or get shares with the gRPC data plane of the same process: stores,
    workers, the active-operation record, and the per-account upload slots and download
    turns (a put is an upload stream and a get a download, for fairness too)."""

    store: ManifestStore
    chunks: ChunkStore
    executor: Executor
    config: DataPlaneConfig
    operations: Operations
    upload_slots: StreamSlots
    downloader: Downloader


class EbsBlocks:
    def __init__(self, parts: DataPlaneParts, timeouts: Timeouts) -> None:
        self.timeouts = timeouts
        self.store, self.chunks, self.executor = parts.store, parts.chunks, parts.executor
        self.config, self.operations = parts.config, parts.operations
        self.upload_slots, self.downloader = parts.upload_slots, parts.downloader
        self.groups = PutGroups(self._write_group)

    async def put(self, account_id: str, snapshot_id: str, index: int, data: bytes,
                  sha256: bytes, checksum: str, algorithm: str) -> None:
        """`sha256`: the digest of `data` (the edge computed it for the signature)."""
        where = f"block {index} of snapshot {snapshot_id}"
        if algorithm != "SHA256":
            raise InvalidArgument(f"ChecksumAlgorithm {algorithm[:20]!r} of {where}: only "
                                  "SHA256 is supported")
        if len(data) != BLOCK_SIZE:
            raise InvalidArgument(f"{where} carries {len(data)} bytes; blocks are "
                                  f"{BLOCK_SIZE}")
        if sha256 != _decode_checksum(checksum, where):
            raise BlockChecksumMismatch(f"{where} failed its SHA256 checksum; nothing was "
                                        "stored", offset=index * BLOCK_SIZE)
        loop = asyncio.get_running_loop()
        token = await loop.run_in_executor(self.executor, _blake3, data)
        await self.groups.put(account_id, snapshot_id, BlockIn(index * BLOCK_SIZE, BLOCK_SIZE,
                                                               token, "none", data, False))

    async def _write_group(self, account_id: str, snapshot_id: str,
                           blocks: list[BlockIn]) -> None:
        """One upload stream of `blocks` (distinct indexes) to the snapshot."""
        async with self.operations.running("upload") as op:
            async with self.store.read() as tx:
                snap = require_ebs_shape(await require_snapshot(tx, account_id, snapshot_id))
                target = await check_target(tx, account_id, "", snapshot_id, snap.version)
            with self.upload_slots.hold(account_id):
                try:
                    async with self.store.write() as tx:
                        await self.timeouts.touch_in(tx, snapshot_id)
                        await self.operations.record(tx, op, target.name)
                except SnapshotTimedOut:
                    await self.timeouts.cancel(account_id, snapshot_id)
                    raise
                await self._upload(target, op, blocks)

    async def _upload(self, target, op, blocks: list[BlockIn]) -> None:
        session = UploadSession(target, self.chunks, self.store, self.executor, self.config,
                                len(blocks), operation=(self.operations, op))
        try:
            for block in blocks:
                await session.add(block)
            await session.finish()
        except BaseException:
            await session.abort()
            raise

    async def linear_sha256(self, account_id: str, snapshot_id: str,
                            pages: AsyncIterator[list[int]]) -> tuple[int, str]:
        return await linear_sha256(self.downloader, self.executor, self.config.max_ranges,
                                   account_id, snapshot_id, pages)

    async def get(self, account_id: str, snapshot_id: str, index: int,
                  block_token: str) -> BlockData:
        where = f"block {index} of snapshot {snapshot_id}"
        token = parse_block_token(block_token, where)
        async with self.store.read() as tx:
            snap = require_ebs_shape((await visible_snapshot(tx, account_id, snapshot_id))[0])
        # A snapshot made through gRPC may end inside its last block: the rest reads as zeros.
        length = min(BLOCK_SIZE, snap.size_bytes - index * BLOCK_SIZE)
        pieces = [b async for b in self.downloader.blocks(
            account_id, "", snapshot_id, [(index * BLOCK_SIZE, length)], False)]
        held = None if pieces[0].zero else pieces[0].checksum
        if held != token:
            raise InvalidBlockToken(f"the block token does not name {where}")
        data = (b"" if held is None else pieces[0].data).ljust(BLOCK_SIZE, b"\0")
        loop = asyncio.get_running_loop()
        digest = await loop.run_in_executor(self.executor, hashlib.sha256, data)
        return BlockData(data, base64.b64encode(digest.digest()).decode())
