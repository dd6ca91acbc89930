"""CompleteSnapshot's aggregate checksum, recomputed from what the store holds.

EBS's LINEAR aggregate is the SHA256 of the written blocks' SHA256 digests in index
order, base64 (as coldsnap and the SDK examples compute it). SHA256s are not stored, so
the written blocks are read back through the data plane's Downloader (each chunk
BLAKE3-verified before it is handed out, the read recorded as an active operation) and
hashed in worker threads; a block written as zeros counts with the digest of zeros.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from concurrent.futures import Executor
from typing import AsyncIterator

from data_plane.download import Downloader
from ebs_facade.model import BLOCK_SIZE


async def linear_sha256(downloader: Downloader, executor: Executor, max_ranges: int,
                        account_id: str, snapshot_id: str,
                        pages: AsyncIterator[list[int]]) -> tuple[int, str]:
    """(blocks counted, base64 aggregate) over the indexes `pages` yields, ascending."""
    total, count = hashlib.sha256(), 0
    loop = asyncio.get_running_loop()
    zero_digest = hashlib.sha256(bytes(BLOCK_SIZE)).digest()
    async for page in pages:
        for start in range(0, len(page), max_ranges):
            ranges = [(i * BLOCK_SIZE, BLOCK_SIZE) for i in page[start:start + max_ranges]]
            async for piece in downloader.blocks(account_id, "", snapshot_id, ranges, False):
                digest = zero_digest if piece.zero else (await loop.run_in_executor(
                    executor, hashlib.sha256, piece.data)).digest()
                total.update(digest)
                count += 1
    return count, base64.b64encode(total.digest()).decode()
