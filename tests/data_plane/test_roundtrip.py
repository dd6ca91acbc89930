"""Round trips over real gRPC: raw and zstd uploads, downloads with and without zstd,
byte ranges that cross chunk boundaries, a short last chunk, and all-zero data blocks."""

from __future__ import annotations

import random

import pytest

from tests.data_plane.helpers import (CHUNK, MIB, ZSTD, b3, download_blocks, list_blocks,
                                      new_volume, pattern, rand, read, upload)

SIZE = MIB + 512          # 16 full 64 KiB chunks and a 512-byte last chunk
LAST = 16 * CHUNK


def mixed_blocks() -> list[tuple[int, bytes]]:
    """Random (incompressible) and patterned (compressible) chunks, plus the short tail."""
    blocks = []
    for i in range(0, 16, 2):
        content = rand(CHUNK) if i % 4 else pattern(f"chunk{i}", CHUNK)
        blocks.append((i * CHUNK, content))
    blocks.append((LAST, rand(512)))
    return blocks


@pytest.mark.parametrize("zstd", [False, True], ids=["raw", "zstd"])
@pytest.mark.parametrize("accept_zstd", [False, True], ids=["plain-out", "zstd-out"])
async def test_volume_with_short_last_chunk_round_trips(cp, dp, zstd, accept_zstd):
    vol = await new_volume(cp, size=SIZE)
    assert vol.size == SIZE and vol.chunk == CHUNK
    blocks = mixed_blocks()
    reply = await upload(dp, vol, blocks, zstd=zstd)
    assert reply.blocks_written == len(blocks), "every block of the stream is counted"
    assert list(reply.tokens) == [b3(c) for _, c in blocks], \
        "reply lists each block's token (BLAKE3 of plain bytes), in order"
    got = await read(dp, volume_id=vol.volume_id, accept_zstd=accept_zstd, size=SIZE)
    assert got == bytes(vol.image), "whole-volume read returns what was written, holes as zeros"


async def test_zstd_stored_chunk_goes_out_as_stored_only_when_accepted(cp, dp):
    vol = await new_volume(cp, size=MIB)
    text = pattern("compressible", CHUNK)
    await upload(dp, vol, [(0, text)], zstd=True)
    [with_zstd] = await download_blocks(dp, volume_id=vol.volume_id, ranges=[(0, CHUNK)],
                                        accept_zstd=True)
    assert with_zstd.compression == ZSTD and len(with_zstd.data) < CHUNK, \
        "a compressible chunk is stored as zstd and sent as stored when the client accepts it"
    [plain] = await download_blocks(dp, volume_id=vol.volume_id, ranges=[(0, CHUNK)])
    assert plain.compression != ZSTD and plain.data == text, \
        "a client that does not accept zstd gets plain bytes"
    assert with_zstd.checksum == plain.checksum == b3(text), "checksum is of the plain bytes"


async def test_arbitrary_byte_ranges_across_chunk_boundaries(cp, dp):
    vol = await new_volume(cp, size=SIZE)
    blocks = [(i * CHUNK, rand(CHUNK)) for i in range(0, 16, 3)] + [(LAST, rand(512))]
    await upload(dp, vol, blocks, zstd=True)
    rng = random.Random(7)
    cases = [(0, 1), (CHUNK - 1, 2), (CHUNK - 100, 3 * CHUNK + 200), (LAST - 10, 522),
             (SIZE - 1, 1), (5 * CHUNK + 17, 10 * CHUNK), (CHUNK + 5, CHUNK - 10)]
    cases += [(o, rng.randrange(1, SIZE - o + 1))
              for o in (rng.randrange(SIZE) for _ in range(10))]
    for offset, length in cases:
        for accept in (False, True):
            got = await read(dp, volume_id=vol.volume_id, offset=offset, length=length,
                             accept_zstd=accept)
            assert got == bytes(vol.image[offset:offset + length]), \
                f"range ({offset}, {length}) reads back exactly the written bytes"


async def test_several_ranges_in_one_call_come_back_in_order(cp, dp):
    vol = await new_volume(cp, size=MIB)
    await upload(dp, vol, [(i * CHUNK, rand(CHUNK)) for i in range(4)])
    ranges = [(3 * CHUNK + 7, 100), (10, CHUNK), (8 * CHUNK, 2 * CHUNK)]
    blocks = await download_blocks(dp, volume_id=vol.volume_id, ranges=ranges)
    out = b"".join(bytes(b.length) if b.zero else b.data for b in blocks)
    assert out == b"".join(bytes(vol.image[o:o + n]) for o, n in ranges), \
        "ranges are served in request order, each exactly"


async def test_all_zero_data_block_is_stored_as_zero(cp, dp):
    vol = await new_volume(cp, size=MIB)
    reply = await upload(dp, vol, [(CHUNK, bytes(CHUNK)), (2 * CHUNK, rand(CHUNK))])
    assert reply.bytes_stored <= CHUNK + 64, "an all-zero data block stores nothing"
    assert reply.tokens[0] == b"", "a zero block's reply token is empty"
    listed = await list_blocks(dp, volume_id=vol.volume_id)
    assert listed[0] == (CHUNK, b"", True), "a written all-zero data block is a ZERO row"
    only_zero = await upload(dp, vol, [(5 * CHUNK, bytes(CHUNK))])
    assert only_zero.bytes_stored == 0, "all-zero data never reaches the chunk store"
    blocks = await download_blocks(dp, volume_id=vol.volume_id, ranges=[(CHUNK, CHUNK)])
    assert len(blocks) == 1 and blocks[0].zero and not blocks[0].data, \
        "a ZERO row reads as a zero block without data"


async def test_sparse_volume_merges_zero_runs(cp, dp):
    vol = await new_volume(cp, size=MIB)
    await upload(dp, vol, [(2 * CHUNK, None), (8 * CHUNK, rand(CHUNK))])
    blocks = await download_blocks(dp, volume_id=vol.volume_id)
    shape = [(b.offset, b.length, b.zero) for b in blocks]
    assert shape == [(0, 8 * CHUNK, True), (8 * CHUNK, CHUNK, False),
                     (9 * CHUNK, 7 * CHUNK, True)], \
        "adjacent holes and zero chunks come back merged into one zero message"
