"""UPLOAD snapshots (earliest-outstanding rule, completion, chunk tokens at creation) and
account isolation of chunk tokens (no cross-account references)."""

from __future__ import annotations

import grpc

from tests.data_plane.helpers import (CHUNK, COMPLETED, MIB, PENDING, UPLOAD, Ref, b3,
                                      complete, list_blocks, missing,
                                      new_volume, rand, read, snapshot, stream, upload)
from tests.rpcerrors import expect_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION


async def test_only_earliest_outstanding_upload_snapshot_accepts_blocks(cp, dp):
    vol = await new_volume(cp, size=MIB)
    first = await snapshot(cp, vol.volume_id, mode=UPLOAD)
    assert first.state == PENDING and first.version == 2
    await upload(dp, vol, [(0, rand(CHUNK)), (CHUNK, None)], snapshot_id=first.snapshot_id,
                 data_version=first.version)
    first_image = bytes(vol.image)

    second = await snapshot(cp, vol.volume_id, mode=UPLOAD)
    assert second.version == 3 and second.state == PENDING
    behind = stream(vol, [(2 * CHUNK, rand(CHUNK))], snapshot_id=second.snapshot_id,
                    data_version=second.version)
    await expect_error(dp.UploadBlocks(iter(behind)), PRECONDITION,
                       "NOT_EARLIEST_OUTSTANDING")
    assert await list_blocks(dp, snapshot_id=second.snapshot_id) == \
        await list_blocks(dp, snapshot_id=first.snapshot_id), \
        "a refused upload into the later snapshot wrote nothing"

    await upload(dp, vol, [(3 * CHUNK, rand(CHUNK))], snapshot_id=first.snapshot_id,
                 data_version=first.version)
    first_image = bytes(vol.image)
    done = await complete(cp, first.snapshot_id)
    assert done.state == COMPLETED
    again = stream(vol, [(4 * CHUNK, rand(CHUNK))], snapshot_id=first.snapshot_id,
                   data_version=first.version)
    await expect_error(dp.UploadBlocks(iter(again)), PRECONDITION, "SNAPSHOT_ALREADY_COMPLETE")

    await upload(dp, vol, [(2 * CHUNK, rand(CHUNK))], snapshot_id=second.snapshot_id,
                 data_version=second.version)
    await complete(cp, second.snapshot_id)
    assert await read(dp, snapshot_id=first.snapshot_id) == first_image, \
        "invariant 1: the completed first snapshot is unchanged by the second's uploads"
    assert await read(dp, snapshot_id=second.snapshot_id) == bytes(vol.image), \
        "the second snapshot starts from the first's content plus its own uploads"


async def test_point_in_time_snapshot_refuses_uploads(cp, dp):
    vol = await new_volume(cp, size=MIB)
    pit = await snapshot(cp, vol.volume_id)
    msgs = stream(vol, [(0, rand(CHUNK))], snapshot_id=pit.snapshot_id, data_version=1)
    await expect_error(dp.UploadBlocks(iter(msgs)), PRECONDITION, "SNAPSHOT_ALREADY_COMPLETE")
    assert await list_blocks(dp, snapshot_id=pit.snapshot_id) == []


async def test_upload_snapshot_created_with_known_chunk_tokens(cp, dp):
    src = await new_volume(cp, size=MIB + 512)
    a, b, tail = rand(CHUNK), rand(CHUNK), rand(512)
    await upload(dp, src, [(0, a), (CHUNK, b), (16 * CHUNK, tail)])
    vol = await new_volume(cp, size=MIB + 512)
    snap = await snapshot(cp, vol.volume_id, mode=UPLOAD,
                          tokens=[(5 * CHUNK, b3(a)), (0, b3(b)), (16 * CHUNK, b3(tail))])
    expected = bytearray(vol.size)
    expected[5 * CHUNK:6 * CHUNK], expected[:CHUNK] = a, b
    expected[16 * CHUNK:] = tail
    assert await read(dp, snapshot_id=snap.snapshot_id) == bytes(expected), \
        "chunk tokens given at creation are placed at their offsets"
    listed = await list_blocks(dp, snapshot_id=snap.snapshot_id)
    assert listed == [(0, b3(b), False), (5 * CHUNK, b3(a), False),
                      (16 * CHUNK, b3(tail), False)]
    await upload(dp, vol, [(2 * CHUNK, Ref(b3(a)))], snapshot_id=snap.snapshot_id,
                 data_version=snap.version, known={b3(a): a})
    expected[2 * CHUNK:3 * CHUNK] = a
    await complete(cp, snap.snapshot_id)
    assert await read(dp, snapshot_id=snap.snapshot_id) == bytes(expected)


async def test_upload_snapshot_with_foreign_token_is_refused(cp, dp, other_cp, other_dp):
    theirs = await new_volume(other_cp, size=MIB)
    secret = rand(CHUNK)
    await upload(other_dp, theirs, [(0, secret)])
    mine = await new_volume(cp, size=MIB)
    await expect_error(cp.CreateSnapshot(snapshot_request(mine.volume_id, [(0, b3(secret))])),
                       PRECONDITION, "INVALID_CHUNK_TOKEN")


def snapshot_request(volume_id, tokens):
    from blockstore.v1 import common_pb2 as pb
    from blockstore.v1 import control_plane_pb2 as cpb
    return cpb.CreateSnapshotRequest(volume_id=volume_id, mode=UPLOAD, chunk_tokens=[
        pb.BlockRef(offset=o, token=t) for o, t in tokens])


async def test_no_cross_account_references(cp, dp, other_cp, other_dp):
    """Account B can not use account A's token, nor learn that A holds it."""
    vol_a = await new_volume(cp, size=MIB)
    secret = rand(CHUNK)
    await upload(dp, vol_a, [(0, secret)])
    token = b3(secret)
    vol_b = await new_volume(other_cp, size=MIB)
    msgs = stream(vol_b, [(0, Ref(token))])
    await expect_error(other_dp.UploadBlocks(iter(msgs)), PRECONDITION, "UNKNOWN_CHUNK_TOKEN")
    assert await list_blocks(other_dp, volume_id=vol_b.volume_id) == [], \
        "a refused reference writes nothing"
    assert await missing(other_dp, [token]) == [token], \
        "FindMissingChunks answers from B's own account: A's token is missing for B"
    assert await missing(dp, [token]) == [], "A holds its own token"

    await upload(other_dp, vol_b, [(CHUNK, secret)])
    assert await missing(other_dp, [token]) == [], "uploading the data gives B the token"
    await upload(other_dp, vol_b, [(2 * CHUNK, Ref(token))], known={token: secret})
    assert await read(other_dp, volume_id=vol_b.volume_id) == bytes(vol_b.image)


async def test_reference_to_own_token_dedups(cp, dp):
    vol = await new_volume(cp, size=MIB)
    data = rand(CHUNK)
    await upload(dp, vol, [(0, data)])
    reply = await upload(dp, vol, [(i * CHUNK, Ref(b3(data))) for i in range(1, 5)],
                         known={b3(data): data})
    assert reply.blocks_written == 4 and reply.bytes_stored == 0 and reply.dedup_hits == 4, \
        "references store nothing and count as dedup hits"
    again = await upload(dp, vol, [(5 * CHUNK, data)])
    assert again.bytes_stored == 0 and again.dedup_hits == 1, "same data is deduplicated"
    assert await read(dp, volume_id=vol.volume_id) == bytes(vol.image)


async def test_missing_lists_unknown_tokens_in_order_without_duplicates(dp):
    a, b = b3(b"a"), b3(b"b")
    assert await missing(dp, [a, b, a]) == [a, b]
    assert await missing(dp, []) == []
