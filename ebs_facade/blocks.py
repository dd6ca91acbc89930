"""PutSnapshotBlock and GetSnapshotBlock over the data plane's upload and download code.

A put is an UploadBlocks stream of one block to the snapshot at its version: the same
UploadSession checks range and target, verifies BLAKE3, deduplicates, stores the chunk
durably and commits its row in one manifest transaction, recorded as an active
operation so GC keeps what it relies on. Before that, the block's SHA256 is checked
against x-amz-Checksum (in a worker thread, with the BLAKE3 that becomes its token): a
mismatch stores nothing. A get is a DownloadBlocks of one block (the chunk store
verifies BLAKE3 before handing it out) and is served only if the block token names
what the caller's snapshot holds at that index.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from typing import AsyncIterator

import blake3

from blockstore.errors import InvalidArgument
from data_plane.blocks import BlockIn
from data_plane.download import Downloader
from data_plane.targets import check_target
from data_plane.upload import UploadSession
from ebs_facade.errors import BlockChecksumMismatch, InvalidBlockToken
from ebs_facade.model import BLOCK_SIZE, BlockData
from ebs_facade.snapshots import require_ebs_shape
from ebs_facade.tokens import parse_block_token
from manifest.lookups import require_snapshot


def _hashes(data: bytes) -> tuple[bytes, bytes]:
    return hashlib.sha256(data).digest(), blake3.blake3(data).digest()


def _decode_checksum(text: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise InvalidArgument(f"x-amz-Checksum of {where} must be a base64 SHA256 digest")
    return raw


class EbsBlocks:
    """Needs the data plane's parts: store, chunks, executor, config, operations, and its
    per-account upload slots (a put is an upload stream for fairness too)."""

    def __init__(self, store, chunks, executor, config, operations, upload_slots) -> None:
        self.store, self.chunks, self.executor, self.config = store, chunks, executor, config
        self.operations, self.upload_slots = operations, upload_slots
        self.downloader = Downloader(store, chunks, executor, config, operations)

    async def put(self, account_id: str, snapshot_id: str, index: int, data: bytes,
                  checksum: str, algorithm: str) -> None:
        where = f"block {index} of snapshot {snapshot_id}"
        if algorithm != "SHA256":
            raise InvalidArgument(f"ChecksumAlgorithm {algorithm[:20]!r} of {where}: only "
                                  "SHA256 is supported")
        if len(data) != BLOCK_SIZE:
            raise InvalidArgument(f"{where} carries {len(data)} bytes; blocks are "
                                  f"{BLOCK_SIZE}")
        wanted = _decode_checksum(checksum, where)
        loop = asyncio.get_running_loop()
        sha, token = await loop.run_in_executor(self.executor, _hashes, data)
        if sha != wanted:
            raise BlockChecksumMismatch(f"{where} failed its SHA256 checksum; nothing was "
                                        "stored", offset=index * BLOCK_SIZE)
        async with self.operations.running("upload") as op:
            async with self.store.read() as tx:
                snap = require_ebs_shape(await require_snapshot(tx, account_id, snapshot_id))
                target = await check_target(tx, account_id, "", snapshot_id, snap.version)
            with self.upload_slots.hold(account_id):
                await self.operations.record_alone(op, target.name)
                await self._upload(target, op, BlockIn(index * BLOCK_SIZE, BLOCK_SIZE, token,
                                                       "none", data, False))

    async def _upload(self, target, op, block: BlockIn) -> None:
        session = UploadSession(target, self.chunks, self.store, self.executor, self.config,
                                1, operation=(self.operations, op))
        try:
            await session.add(block)
            await session.finish()
        except BaseException:
            await session.abort()
            raise

    async def linear_sha256(self, account_id: str, snapshot_id: str,
                            pages: AsyncIterator[list[int]]) -> tuple[int, str]:
        """(count, base64 SHA256 over each block's SHA256 digest in index order): EBS's
        LINEAR aggregate, from the stored blocks (each BLAKE3-verified as it is read)."""
        total, count = hashlib.sha256(), 0
        loop = asyncio.get_running_loop()
        zero_digest = hashlib.sha256(bytes(BLOCK_SIZE)).digest()
        step = self.config.max_ranges
        async for page in pages:
            for start in range(0, len(page), step):
                ranges = [(i * BLOCK_SIZE, BLOCK_SIZE) for i in page[start:start + step]]
                async for piece in self.downloader.blocks(account_id, "", snapshot_id,
                                                          ranges, False):
                    digest = zero_digest if piece.zero else (await loop.run_in_executor(
                        self.executor, hashlib.sha256, piece.data)).digest()
                    total.update(digest)
                    count += 1
        return count, base64.b64encode(total.digest()).decode()

    async def get(self, account_id: str, snapshot_id: str, index: int,
                  block_token: str) -> BlockData:
        where = f"block {index} of snapshot {snapshot_id}"
        token = parse_block_token(block_token, where)
        async with self.store.read() as tx:
            snap = require_ebs_shape(await require_snapshot(tx, account_id, snapshot_id))
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
