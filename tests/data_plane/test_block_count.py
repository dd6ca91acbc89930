"""A stream that announces its block count commits only when exactly that many arrived.

grpc.aio reports a client's cancellation to the server's request iterator like a normal
end of stream; `UploadTarget.block_count` makes a stream cut short impossible to commit.
"""

from __future__ import annotations

import grpc

from tests.data_plane.helpers import CHUNK, list_blocks, new_volume, rand, read, stream
from tests.rpcerrors import expect_error


def announced(vol, blocks, count):
    msgs = stream(vol, blocks)
    msgs[0].target.block_count = count
    return msgs


async def test_stream_with_exactly_the_announced_blocks_commits(cp, dp):
    vol = await new_volume(cp)
    blocks = [(0, rand(CHUNK)), (CHUNK, rand(CHUNK))]
    reply = await dp.UploadBlocks(iter(announced(vol, blocks, 2)))
    vol.apply(blocks, {})
    assert reply.blocks_written == 2
    assert await read(dp, volume_id=vol.volume_id) == bytes(vol.image), \
        "a stream carrying its announced block count commits"


async def test_stream_shorter_than_announced_commits_nothing(cp, dp):
    vol = await new_volume(cp)
    blocks = [(0, rand(CHUNK)), (CHUNK, rand(CHUNK))]
    info = await expect_error(dp.UploadBlocks(iter(announced(vol, blocks, 3))),
                              grpc.StatusCode.INVALID_ARGUMENT, "BLOCK_COUNT_MISMATCH")
    assert (info.metadata["expected"], info.metadata["received"]) == ("3", "2"), \
        "the error says how many blocks were announced and how many arrived"
    assert await list_blocks(dp, volume_id=vol.volume_id) == [], \
        "a stream cut short of its announced block count writes no row"


async def test_stream_longer_than_announced_commits_nothing(cp, dp):
    vol = await new_volume(cp)
    blocks = [(0, rand(CHUNK)), (CHUNK, rand(CHUNK)), (2 * CHUNK, rand(CHUNK))]
    await expect_error(dp.UploadBlocks(iter(announced(vol, blocks, 2))),
                       grpc.StatusCode.INVALID_ARGUMENT, "BLOCK_COUNT_MISMATCH")
    assert await list_blocks(dp, volume_id=vol.volume_id) == [], \
        "a stream carrying more blocks than announced writes no row"


async def test_negative_block_count_is_invalid(cp, dp):
    vol = await new_volume(cp)
    await expect_error(dp.UploadBlocks(iter(announced(vol, [(0, rand(CHUNK))], -1))),
                       grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
