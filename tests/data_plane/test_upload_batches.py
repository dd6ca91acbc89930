"""Upload streams verify and store their data blocks in batches (data_plane/upload.py):
one worker-thread hop, one account lookup and one `put_many` per batch. In-process, on a
real SQLite file and chunk directory."""

from __future__ import annotations

import asyncio
import os

import pytest

from blockstore.errors import ChecksumMismatch
from chunkstore import blake3_token, encode
from data_plane.blocks import BlockIn
from data_plane.config import DataPlaneConfig
from data_plane.upload import UploadSession
from data_plane.upload_memory import UploadMemory
from tests.data_plane.sessions import upload_target

CHUNK = 64 << 10
ACCOUNT = "acct-batches"


class CountingChunks:
    """The real chunk store, noting how many chunks each `put_many` carried."""

    def __init__(self, inner) -> None:
        self.inner, self.batches = inner, []

    async def put_many(self, puts):
        self.batches.append(len(puts))
        return await self.inner.put_many(puts)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
async def world(local_stores):
    store, chunks, executor = local_stores
    target = await upload_target(store, ACCOUNT, "vol-b", 64 * CHUNK, CHUNK)
    return store, CountingChunks(chunks), executor, target


def data_block(i: int, data: bytes | None = None) -> BlockIn:
    data = data if data is not None else os.urandom(CHUNK)
    return BlockIn(i * CHUNK, CHUNK, blake3_token(data), "none", data, False)


async def test_small_blocks_are_stored_in_batches_and_every_block_commits(world):
    store, chunks, executor, target = world
    config = DataPlaneConfig(upload_batch_bytes=4 * CHUNK)
    session = UploadSession(target, chunks, store, executor, config)
    blocks = [data_block(i) for i in range(20)]
    for block in blocks:
        await session.add(block)
    result = await session.finish()
    assert result.blocks_written == 20 and result.bytes_stored > 0
    assert sum(chunks.batches) == 20, "every new chunk is stored exactly once"
    assert len(chunks.batches) <= 20 // 4 + 1, \
        f"blocks go to the chunk store in batches, not one by one: {chunks.batches}"
    for block, token in zip(blocks, result.tokens):
        assert token == block.checksum
        assert (await chunks.inner.get(token)).plain == block.data


async def test_a_budget_smaller_than_a_batch_never_stalls_the_stream(world):
    """Blocks of the open batch hold budget; the stream hands the batch off before it
    waits for more, or it would wait on bytes only it can give back. A small zstd block
    (charged about one chunk) in flight and a raw one (two: wire and plain) in the open
    batch: what the first gives back is not enough for the next raw block."""
    store, chunks, executor, target = world
    config = DataPlaneConfig(upload_batch_bytes=1 << 20)
    memory = UploadMemory(7 * CHUNK // 2)
    session = UploadSession(target, chunks, store, executor, config, memory=memory)
    text = (b"compressible " * CHUNK)[:CHUNK]

    async def stream() -> int:
        await session.add(BlockIn(0, CHUNK, blake3_token(text), "zstd",
                                  encode(text)[1], False))
        for i in range(1, 12):
            await session.add(data_block(i))
        return (await session.finish()).blocks_written

    assert await asyncio.wait_for(stream(), 60) == 12
    assert memory.used == 0, "every byte charged comes back"


async def test_a_bad_block_inside_a_batch_fails_the_stream_and_names_its_offset(world):
    store, chunks, executor, target = world
    memory = UploadMemory(96 << 20)
    session = UploadSession(target, chunks, store, executor,
                            DataPlaneConfig(upload_batch_bytes=8 * CHUNK), memory=memory)
    bad = os.urandom(CHUNK)
    with pytest.raises(ChecksumMismatch) as caught:
        for i in range(8):
            block = data_block(i)
            if i == 5:
                block = BlockIn(i * CHUNK, CHUNK, blake3_token(b"other"), "none", bad, False)
            await session.add(block)
        await session.finish()
    assert f"offset {5 * CHUNK}" in caught.value.message
    await session.abort()
    assert memory.used == 0, "a failed stream gives its budget back"
    async with store.read() as tx:
        assert await tx.newest_rows(target.vid, target.version, 0, 63) == [], \
            "a failed stream writes no row"


async def test_a_batch_holds_at_most_upload_batch_blocks(world):
    """Small blocks fill a batch up to `upload_batch_blocks` even when their bytes stay
    under `upload_batch_bytes`: a batch's fsyncs run one after another in one thread."""
    store, chunks, executor, target = world
    config = DataPlaneConfig(upload_batch_bytes=1 << 30, upload_batch_blocks=3)
    session = UploadSession(target, chunks, store, executor, config)
    for i in range(20):
        await session.add(data_block(i))
    result = await session.finish()
    assert result.blocks_written == 20 and sum(chunks.batches) == 20
    assert max(chunks.batches) <= 3, chunks.batches
