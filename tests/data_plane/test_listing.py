"""ListBlocks (written zeros vs holes, paging, start_offset) and ListChangedBlocks
(exact change lists within a volume)."""

from __future__ import annotations

import grpc

from blockstore.v1 import data_plane_pb2 as dpb
from tests.data_plane.helpers import (CHUNK, MIB, b3, list_blocks, list_changes, new_volume,
                                      rand, snapshot, upload)
from tests.rpcerrors import expect_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def test_written_zeros_are_listed_holes_are_absent(cp, dp):
    vol = await new_volume(cp, size=MIB)
    d1, d3 = rand(CHUNK), rand(CHUNK)
    await upload(dp, vol, [(CHUNK, d1), (2 * CHUNK, None), (3 * CHUNK, d3),
                           (6 * CHUNK, bytes(CHUNK))])
    assert await list_blocks(dp, volume_id=vol.volume_id) == [
        (CHUNK, b3(d1), False), (2 * CHUNK, b"", True), (3 * CHUNK, b3(d3), False),
        (6 * CHUNK, b"", True)], \
        "written chunks only, ascending; written zeros flagged zero with no token; holes absent"


async def test_list_blocks_pages_and_start_offset(cp, dp):
    vol = await new_volume(cp, size=MIB)
    blocks = [(i * CHUNK, rand(CHUNK)) for i in (0, 2, 3, 7, 9)]
    await upload(dp, vol, blocks)
    everything = [(o, b3(d), False) for o, d in blocks]

    page1 = await dp.ListBlocks(dp_req(vol.volume_id, page_size=2))
    assert [b.offset for b in page1.blocks] == [0, 2 * CHUNK] and page1.next_page_token
    page2 = await dp.ListBlocks(dp_req(vol.volume_id, page_size=2, token=page1.next_page_token))
    assert [b.offset for b in page2.blocks] == [3 * CHUNK, 7 * CHUNK] and page2.next_page_token
    page3 = await dp.ListBlocks(dp_req(vol.volume_id, page_size=2, token=page2.next_page_token))
    assert [b.offset for b in page3.blocks] == [9 * CHUNK] and not page3.next_page_token, \
        "the last page has no next_page_token"
    assert await list_blocks(dp, volume_id=vol.volume_id, page_size=2) == everything, \
        "paging by 2 over 5 blocks yields each block exactly once, in order"

    assert await list_blocks(dp, volume_id=vol.volume_id, start_offset=3 * CHUNK) == \
        everything[2:], "start_offset on a chunk boundary starts at that chunk"
    assert await list_blocks(dp, volume_id=vol.volume_id, start_offset=3 * CHUNK + 1,
                             page_size=1) == everything[3:], \
        "start_offset inside a chunk starts at the next chunk"
    assert await list_blocks(dp, volume_id=vol.volume_id, start_offset=2 * MIB) == []
    other = dp_req(vol.volume_id, page_size=2, token=page1.next_page_token, start=CHUNK)
    await expect_error(dp.ListBlocks(other), INVALID, "INVALID_ARGUMENT")
    await expect_error(dp.ListBlocks(dp_req(vol.volume_id, token="garbage")), INVALID,
                       "INVALID_ARGUMENT")
    await expect_error(dp.ListBlocks(dp_req(vol.volume_id, start=-1)), INVALID,
                       "INVALID_ARGUMENT")


def dp_req(volume_id, page_size=0, token="", start=0):
    return dpb.ListBlocksRequest(volume_id=volume_id, page_size=page_size, page_token=token,
                                start_offset=start)


async def test_exact_changed_blocks_within_a_volume(cp, dp):
    vol = await new_volume(cp, size=MIB + 512)
    a, b, c, tail = rand(CHUNK), rand(CHUNK), rand(CHUNK), rand(512)
    await upload(dp, vol, [(0, a), (CHUNK, b), (2 * CHUNK, c), (3 * CHUNK, None),
                           (16 * CHUNK, tail)])
    base = await snapshot(cp, vol.volume_id)
    n0, n5 = rand(CHUNK), rand(CHUNK)
    await upload(dp, vol, [(0, n0),                 # overwritten: change
                           (CHUNK, b),              # rewritten with identical data: no change
                           (2 * CHUNK, None),       # zeroed: target_zero
                           (3 * CHUNK, None),       # zero again: no change
                           (5 * CHUNK, n5)])        # hole -> data
    await upload(dp, vol, [(16 * CHUNK, bytes(512))])   # short tail zeroed by data
    target = await snapshot(cp, vol.volume_id)
    expected = [(0, b3(a), b3(n0), False, False),
                (2 * CHUNK, b3(c), b"", False, True),
                (5 * CHUNK, b"", b3(n5), False, False),
                (16 * CHUNK, b3(tail), b"", False, True)]
    assert await list_changes(dp, target.snapshot_id, base.snapshot_id) == expected, \
        "exact changes: identical rewrites are not changes; zeroing is target_zero; " \
        "an empty non-zero side is a hole"
    assert await list_changes(dp, target.snapshot_id, base.snapshot_id, page_size=1) == \
        expected, "paging by 1 yields the same list"
    assert await list_changes(dp, target.snapshot_id, target.snapshot_id) == [], \
        "a snapshot does not differ from itself"

    no_base = await list_changes(dp, base.snapshot_id)
    assert no_base == [(0, b"", b3(a), False, False), (CHUNK, b"", b3(b), False, False),
                       (2 * CHUNK, b"", b3(c), False, False), (3 * CHUNK, b"", b"", False, True),
                       (16 * CHUNK, b"", b3(tail), False, False)], \
        "without a base every written block (zeros flagged) is a change from a hole"


async def test_changed_blocks_across_unrelated_volumes_is_invalid_lineage(cp, dp):
    v1, v2 = await new_volume(cp, size=MIB), await new_volume(cp, size=MIB)
    s1, s2 = await snapshot(cp, v1.volume_id), await snapshot(cp, v2.volume_id)
    await expect_error(dp.ListChangedBlocks(dpb.ListChangedBlocksRequest(
        base_snapshot_id=s1.snapshot_id, target_snapshot_id=s2.snapshot_id)),
        INVALID, "INVALID_SNAPSHOT_LINEAGE")


async def test_changed_blocks_of_unknown_snapshot_is_not_found(dp):
    await expect_error(dp.ListChangedBlocks(dpb.ListChangedBlocksRequest(
        target_snapshot_id="snap-nope")), grpc.StatusCode.NOT_FOUND, "INVALID_SNAPSHOT_ID")
