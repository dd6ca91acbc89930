"""Every DataPlaneService RPC under hypothesis. Uploads are always hostile (a bad target
or a bad last block) and must fail with that exact status and reason, committing nothing;
reads of our own data that succeed must return exactly the canary's bytes."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from blockstore.v1 import data_plane_pb2 as dpb
from data_plane.config import DataPlaneConfig
from tests.hostile.bad_blocks import (COUNT, DUPLICATE, SLOTS, bad_block, first_message,
                                      good_blocks)
from tests.hostile.hostile import (OK, allowed, fuzz, garbage_ids, int32s, int64s, outcome,
                                   page_tokens, tokens)
from tests.hostile.world import CHUNK, SIZE, b3, block
import zstandard

BAD_ARG = ("INVALID_ARGUMENT", "INVALID_ARGUMENT")
TOO_LONG = ("INVALID_ARGUMENT", "STREAM_TOO_LONG")
MAX_BLOCKS = DataPlaneConfig().max_blocks_per_stream
OUT_OF_RANGE = ("OUT_OF_RANGE", "BLOCK_OUT_OF_RANGE")
NO_VOLUME = ("NOT_FOUND", "INVALID_VOLUME_ID")
NO_SNAPSHOT = ("NOT_FOUND", "INVALID_SNAPSHOT_ID")
LINEAGE = ("INVALID_ARGUMENT", "INVALID_SNAPSHOT_LINEAGE")


@given(data=st.data())
@fuzz(100)
def test_upload_blocks(world, data):
    first, target_failure = data.draw(first_message(world))
    slots = data.draw(st.lists(st.integers(0, SLOTS - 1), min_size=1, max_size=4,
                               unique=True))
    *good_slots, bad_slot = slots
    msgs = [first, *data.draw(good_blocks(good_slots))]
    if good_slots and data.draw(st.integers(0, 5)) == 0:
        again = os.urandom(CHUNK)
        msgs.append(block(good_slots[0] * CHUNK, again, CHUNK))
        block_failure = DUPLICATE
    else:
        bad, block_failure = data.draw(bad_block(bad_slot * CHUNK, world.b_token))
        msgs.append(bad)
    blocks = len(msgs) - 1
    count = data.draw(st.sampled_from([0, blocks, -1, 1 << 62]) | st.integers(1, blocks))
    if first.WhichOneof("message") == "target":
        first.target.block_count = count
        if count < 0 and not target_failure:
            target_failure = BAD_ARG          # a negative block_count is refused at once
        elif count > MAX_BLOCKS and not target_failure:
            target_failure = TOO_LONG         # so is one over the per-stream cap
        elif 0 < count < blocks:
            block_failure = COUNT             # one block too many: refused when it arrives
        elif count > blocks and block_failure[1] == "UNKNOWN_CHUNK_TOKEN":
            block_failure = COUNT             # the count is checked before references
    got, _ = outcome(lambda: world.a.dp.UploadBlocks(iter(msgs)), "UploadBlocks")
    assert got == (target_failure or block_failure), \
        f"target failure {target_failure}, block failure {block_failure}, count {count}"


def expected_bytes(world, source: dict) -> bytes:
    return world.canary if "volume_id" in source else world.canary_snap


def sources(world, own=True):
    a = world.a
    mine = [{"volume_id": a.ids["canary"]}, {"snapshot_id": a.ids["canary_snap"]}]
    others = ([{"volume_id": v} for v in world.foreign_volumes] +
              [{"snapshot_id": s} for s in world.foreign_snapshots])
    garbage = st.one_of(garbage_ids("vol-").map(lambda i: {"volume_id": i}),
                        garbage_ids("snap-").map(lambda i: {"snapshot_id": i}))
    return st.one_of(st.sampled_from(mine if own else others), st.sampled_from(others),
                     garbage, st.just({}))


def ranges():
    one = st.one_of(st.tuples(int64s(SIZE, SIZE - 1, CHUNK), int64s(SIZE, 512, CHUNK)),
                    st.tuples(st.integers(0, SIZE - 1), st.integers(1, 3 * CHUNK)))
    return st.lists(one, max_size=4) | st.just([(0, 1)] * 10_001)


def range_ok(offset: int, length: int) -> bool:
    return offset >= 0 and length > 0 and offset + length <= SIZE


@given(data=st.data(), accept=st.lists(st.integers(-(1 << 31), (1 << 31) - 1), max_size=3))
@fuzz(100)
def test_download_blocks(world, data, accept):
    source = data.draw(sources(world))
    wanted = data.draw(ranges())
    request = dpb.DownloadBlocksRequest(
        ranges=[dpb.ByteRange(offset=o, length=n) for o, n in wanted],
        accept_compression=accept, **source)
    got, msgs = outcome(lambda: list(world.a.dp.DownloadBlocks(request)), "DownloadBlocks")
    ours = source in [{"volume_id": world.a.ids["canary"]},
                      {"snapshot_id": world.a.ids["canary_snap"]}]
    if not ours:
        allowed(got, NO_VOLUME, NO_SNAPSHOT, BAD_ARG)
        if source and next(iter(source.values())):
            assert got == (NO_VOLUME if "volume_id" in source else NO_SNAPSHOT)
        return
    if len(wanted) > 10_000:
        assert got == BAD_ARG
    elif all(range_ok(o, n) for o, n in wanted):
        assert got == OK, f"ranges {wanted} are inside the volume"
        image = expected_bytes(world, source)
        expected = b"".join(image[o:o + n] for o, n in wanted or [(0, SIZE)])
        assert b"".join(_plain(m) for m in msgs) == expected, "downloaded bytes differ"
    else:
        assert got == OUT_OF_RANGE


def _plain(msg: dpb.DownloadBlocksResponse) -> bytes:
    if msg.zero:
        return bytes(msg.length)
    data = msg.data
    if msg.compression == 2:
        data = zstandard.ZstdDecompressor().decompress(data, max_output_size=msg.length)
    assert b3(data) == msg.checksum, f"block at {msg.offset} fails its checksum"
    return data


@given(data=st.data())
@fuzz(80)
def test_find_missing_chunks(world, data):
    """Answers from the caller's account only: B's token is missing for A, A's are not."""
    pool = st.one_of(tokens(), st.sampled_from(world.a_tokens + [world.b_token]))
    asked = data.draw(st.lists(pool, max_size=6) | st.just([b"\0" * 32] * 10_001))
    got, reply = outcome(lambda: world.a.dp.FindMissingChunks(dpb.FindMissingChunksRequest(
        tokens=asked)), "FindMissingChunks")
    if len(asked) > 10_000 or any(len(t) != 32 for t in asked):
        assert got == BAD_ARG
        return
    assert got == OK
    missing = set(reply.missing_tokens)
    assert missing == {t for t in asked if t not in world.a_tokens}, \
        "missing must be exactly the tokens A does not hold (B's included)"


@given(data=st.data(), start=int64s(CHUNK, SIZE, SIZE - 512), page_size=int32s(),
       token=st.just("") | page_tokens())
@fuzz(100)
def test_list_blocks(world, data, start, page_size, token):
    source = data.draw(sources(world))
    got, reply = outcome(lambda: world.a.dp.ListBlocks(dpb.ListBlocksRequest(
        start_offset=start, page_size=page_size, page_token=token, **source)), "ListBlocks")
    ours = source in [{"volume_id": world.a.ids["canary"]},
                      {"snapshot_id": world.a.ids["canary_snap"]}]
    if not ours:
        allowed(got, NO_VOLUME, NO_SNAPSHOT, BAD_ARG)
        return
    if start < 0 or page_size < 0 or token:
        assert got == BAD_ARG
        return
    assert got == OK
    name = "canary" if "volume_id" in source else "canary_snap"
    rows = [r for r in world.lists[name] if r[0] >= start]
    limit = min(page_size or 1000, 10_000)
    assert [(b.offset, b.token, b.zero) for b in reply.blocks] == rows[:limit]


@given(data=st.data(), page_size=int32s(), token=st.just("") | page_tokens())
@fuzz(100)
def test_list_changed_blocks(world, data, page_size, token):
    a = world.a
    own = [a.ids["canary_snap"], a.ids["pending"]]
    pick = st.sampled_from(own) | garbage_ids("snap-") | st.sampled_from(
        world.foreign_snapshots + [a.ids["canary"]])
    base = data.draw(st.just("") | pick)
    target = data.draw(pick)
    got, _ = outcome(lambda: world.a.dp.ListChangedBlocks(dpb.ListChangedBlocksRequest(
        base_snapshot_id=base, target_snapshot_id=target, page_size=page_size,
        page_token=token)), "ListChangedBlocks")
    if target not in own or (base and base not in own):
        assert got == NO_SNAPSHOT
    elif base and base != target and {base, target} == set(own):
        assert got == LINEAGE
    elif page_size < 0 or token:
        assert got == BAD_ARG
    else:
        assert got == OK
