"""Malformed uploads, downloads and lookups: each fails with its exact status and reason,
and none of them changes what is stored (every bad stream also carries good blocks)."""

from __future__ import annotations

import grpc
import pytest
import zstandard

from blockstore.v1 import data_plane_pb2 as dpb
from tests.data_plane.helpers import (CHUNK, MIB, ZSTD, b3, block_msg, list_blocks,
                                      new_volume, rand, read, stream, target_msg, upload)
from tests.rpcerrors import expect_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT
RANGE = grpc.StatusCode.OUT_OF_RANGE
NOT_FOUND = grpc.StatusCode.NOT_FOUND
SIZE = MIB + 512


@pytest.fixture
async def filled(cp, dp):
    """A volume with some data, and a check that it still reads exactly that."""
    vol = await new_volume(cp, size=SIZE)
    await upload(dp, vol, [(0, rand(CHUNK)), (3 * CHUNK, None), (16 * CHUNK, rand(512))])
    before = await list_blocks(dp, volume_id=vol.volume_id)

    async def untouched():
        assert await list_blocks(dp, volume_id=vol.volume_id) == before, \
            "a rejected request changes no manifest row"
        assert await read(dp, volume_id=vol.volume_id) == bytes(vol.image), \
            "a rejected request changes no byte of the volume"
    vol.untouched = untouched
    return vol


def raw_block(offset, length, data, compression=0, checksum=None):
    return dpb.UploadBlocksRequest(block=dpb.UploadBlock(
        offset=offset, length=length, data=data, compression=compression,
        checksum=b3(data) if checksum is None else checksum))


def good(vol):
    return stream(vol, [(CHUNK, rand(CHUNK)), (2 * CHUNK, rand(CHUNK))])


async def test_unaligned_block(dp, filled):
    msgs = good(filled) + [block_msg(5 * CHUNK + 512, rand(CHUNK), CHUNK)]
    info = await expect_error(dp.UploadBlocks(iter(msgs)), INVALID, "UNALIGNED_BLOCK")
    assert info.metadata["offset"] == str(5 * CHUNK + 512)
    await filled.untouched()


@pytest.mark.parametrize("offset", [SIZE, 17 * CHUNK, 4 * MIB, -CHUNK], ids=str)
async def test_block_out_of_range(dp, filled, offset):
    msgs = good(filled) + [block_msg(offset, rand(512), 512)]
    await expect_error(dp.UploadBlocks(iter(msgs)), RANGE, "BLOCK_OUT_OF_RANGE")
    await filled.untouched()


async def test_duplicate_block(dp, filled):
    msgs = good(filled) + [block_msg(CHUNK, rand(CHUNK), CHUNK)]
    info = await expect_error(dp.UploadBlocks(iter(msgs)), INVALID, "DUPLICATE_BLOCK")
    assert info.metadata["offset"] == str(CHUNK)
    await filled.untouched()


@pytest.mark.parametrize("offset,length", [(5 * CHUNK, CHUNK - 512), (5 * CHUNK, 2 * CHUNK),
                                           (16 * CHUNK, CHUNK), (16 * CHUNK, 0)],
                         ids=["short", "long", "full-length-tail", "zero-length"])
async def test_wrong_length(dp, filled, offset, length):
    data = rand(length)
    msgs = good(filled) + [raw_block(offset, length, data)]
    await expect_error(dp.UploadBlocks(iter(msgs)), INVALID, "UNALIGNED_BLOCK")
    await filled.untouched()


async def test_raw_data_of_wrong_size(dp, filled):
    data = rand(CHUNK - 1)
    msgs = good(filled) + [raw_block(5 * CHUNK, CHUNK, data)]
    await expect_error(dp.UploadBlocks(iter(msgs)), INVALID, "INVALID_BLOCK_DATA")
    await filled.untouched()


def bomb_frames() -> dict[str, bytes]:
    plain = bytes(100 * CHUNK)            # inflates to 100x the block length
    sized = zstandard.ZstdCompressor(level=3).compress(plain)
    unsized = zstandard.ZstdCompressor(level=3, write_content_size=False).compress(plain)
    co = zstandard.ZstdCompressor(level=3).compressobj()
    streamed = co.compress(plain) + co.flush()
    short = zstandard.ZstdCompressor().compress(bytes(CHUNK - 1))
    return {"bomb-sized": sized, "bomb-unsized": unsized, "bomb-streamed": streamed,
            "short": short, "garbage": b"\x28\xb5\x2f\xfd" + rand(100), "not-zstd": rand(64)}


@pytest.mark.parametrize("kind", list(bomb_frames()))
async def test_bad_zstd_is_invalid_block_data(dp, filled, kind):
    frame = bomb_frames()[kind]
    assert len(frame) < CHUNK
    msgs = good(filled) + [raw_block(5 * CHUNK, CHUNK, frame, ZSTD, checksum=b3(bytes(CHUNK)))]
    await expect_error(dp.UploadBlocks(iter(msgs)), INVALID, "INVALID_BLOCK_DATA")
    await filled.untouched()


async def test_first_message_must_be_target(dp, filled):
    msgs = good(filled)[1:]
    await expect_error(dp.UploadBlocks(iter(msgs)), INVALID, "INVALID_ARGUMENT")
    await filled.untouched()


async def test_later_target_is_invalid(dp, filled):
    msgs = good(filled) + [target_msg(filled.volume_id)]
    await expect_error(dp.UploadBlocks(iter(msgs)), INVALID, "INVALID_ARGUMENT")
    await filled.untouched()


async def test_empty_stream_is_invalid(dp, filled):
    await expect_error(dp.UploadBlocks(iter([])), INVALID, "INVALID_ARGUMENT")
    empty_request = [dpb.UploadBlocksRequest()]
    await expect_error(dp.UploadBlocks(iter(empty_request)), INVALID, "INVALID_ARGUMENT")
    await filled.untouched()


async def test_target_only_stream_writes_nothing(dp, filled):
    reply = await dp.UploadBlocks(iter([target_msg(filled.volume_id)]))
    assert reply.blocks_written == 0
    await filled.untouched()


async def test_unknown_targets_are_not_found(dp, other_dp, filled):
    msgs = [target_msg("vol-nope")] + good(filled)[1:]
    await expect_error(dp.UploadBlocks(iter(msgs)), NOT_FOUND, "INVALID_VOLUME_ID")
    msgs = [target_msg(snapshot_id="snap-nope")] + good(filled)[1:]
    await expect_error(dp.UploadBlocks(iter(msgs)), NOT_FOUND, "INVALID_SNAPSHOT_ID")
    await expect_error(other_dp.UploadBlocks(iter(good(filled))), NOT_FOUND,
                       "INVALID_VOLUME_ID")
    await expect_error(other_dp.ListBlocks(dpb.ListBlocksRequest(volume_id=filled.volume_id)),
                       NOT_FOUND, "INVALID_VOLUME_ID")
    await expect_error(_download(other_dp, filled.volume_id, []), NOT_FOUND,
                       "INVALID_VOLUME_ID")
    await filled.untouched()


async def _download(dp, volume_id, ranges):
    request = dpb.DownloadBlocksRequest(volume_id=volume_id, ranges=[
        dpb.ByteRange(offset=o, length=n) for o, n in ranges])
    return [m async for m in dp.DownloadBlocks(request)]


@pytest.mark.parametrize("rng", [(0, SIZE + 1), (SIZE, 1), (SIZE - 10, 11), (-1, 10),
                                 (4 * MIB, 512)], ids=str)
async def test_download_range_out_of_range(dp, filled, rng):
    await expect_error(_download(dp, filled.volume_id, [(0, 10), rng]), RANGE,
                       "BLOCK_OUT_OF_RANGE")
    await filled.untouched()


async def test_find_missing_rejects_bad_tokens(dp):
    await expect_error(dp.FindMissingChunks(dpb.FindMissingChunksRequest(
        tokens=[b3(b"ok"), bytes(31)])), INVALID, "INVALID_ARGUMENT")
    await expect_error(dp.FindMissingChunks(dpb.FindMissingChunksRequest(
        tokens=[bytes(33)])), INVALID, "INVALID_ARGUMENT")
    many = [b3(i.to_bytes(4, "little")) for i in range(10_001)]
    await expect_error(dp.FindMissingChunks(dpb.FindMissingChunksRequest(tokens=many)),
                       INVALID, "INVALID_ARGUMENT")
    reply = await dp.FindMissingChunks(dpb.FindMissingChunksRequest(tokens=many[:10_000]))
    assert len(reply.missing_tokens) == 10_000, "10,000 tokens is within the limit"


async def test_reference_of_wrong_length_chunk_is_refused(cp, dp, filled):
    """A token holds a fixed number of bytes; it can not stand in for a block of another
    length (the 512-byte tail's token at a 64 KiB offset)."""
    [tail] = [t for o, t, _ in await list_blocks(dp, volume_id=filled.volume_id)
              if o == 16 * CHUNK]
    msgs = good(filled) + [dpb.UploadBlocksRequest(block=dpb.UploadBlock(
        offset=5 * CHUNK, length=CHUNK, checksum=tail))]
    await expect_error(dp.UploadBlocks(iter(msgs)), INVALID, "INVALID_BLOCK_DATA")
    await filled.untouched()
