"""One store, two APIs: a snapshot made through EBS direct is a gRPC snapshot (visible,
listable, readable byte-exact), and a gRPC snapshot of a volume with 512 KiB chunks is
readable through EBS and can be an EBS parent."""

from __future__ import annotations

import base64
import os

import pytest
from botocore.exceptions import ClientError

from blockstore.v1 import data_plane_pb2 as dp
from tests.data_plane.helpers import (COMPLETED, UPLOAD, get_snapshot, new_volume, read,
                                      snapshot, upload)
from tests.ebs.conftest import BLOCK, all_blocks, all_changes, get, put

GIB = 1 << 30


async def test_an_ebs_snapshot_is_a_grpc_snapshot(ebs, cp, dp):
    sid = ebs.start_snapshot(VolumeSize=1, Description="from ebs")["SnapshotId"]
    written = {0: os.urandom(BLOCK), 3: os.urandom(BLOCK)}
    for (i, data), percent in zip(written.items(), (40, 30)):
        put(ebs, sid, i, data, Progress=percent)
    assert (await get_snapshot(cp, sid)).progress == pytest.approx(0.4), \
        "x-amz-Progress is the snapshot's progress, never lowered"
    ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=2)
    snap = await get_snapshot(cp, sid)
    assert (snap.mode, snap.state, snap.chunk_size, snap.size_bytes) == \
        (UPLOAD, COMPLETED, BLOCK, GIB)
    assert snap.description == "from ebs"
    image = await read(dp, snapshot_id=sid, offset=0, length=4 * BLOCK)
    assert image == written[0] + bytes(2 * BLOCK) + written[3]
    listed = (await dp.ListBlocks(dp_list(sid))).blocks
    assert {b.offset // BLOCK: b.token for b in listed} == \
        {i: base64.b64decode(t) for i, t in all_blocks(ebs, sid).items()}, \
        "a BlockToken is the gRPC chunk token"
    child = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=sid)["SnapshotId"]
    child_pb = await get_snapshot(cp, child)
    assert child_pb.volume_id == snap.volume_id, "an incremental chain stays one volume"
    assert child_pb.parent_snapshot_id == sid


async def test_a_grpc_snapshot_with_512k_chunks_is_readable_through_ebs(ebs, cp, dp):
    vol = await new_volume(cp, size=4 << 20, chunk=BLOCK)
    data = {BLOCK: os.urandom(BLOCK), 5 * BLOCK: os.urandom(BLOCK)}
    await upload(dp, vol, [(o, d) for o, d in data.items()] + [(2 * BLOCK, None)])
    snap = await snapshot(cp, vol.volume_id)
    listed = all_blocks(ebs, snap.snapshot_id)
    assert sorted(listed) == [1, 2, 5]
    for offset, content in data.items():
        assert get(ebs, snap.snapshot_id, offset // BLOCK, listed[offset // BLOCK])[0] == content
    assert get(ebs, snap.snapshot_id, 2, listed[2])[0] == bytes(BLOCK)
    # An EBS snapshot on top of it: a 1 GiB clone reading through to the gRPC snapshot.
    child = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=snap.snapshot_id)["SnapshotId"]
    new = os.urandom(BLOCK)
    put(ebs, child, 1, new)
    ebs.complete_snapshot(SnapshotId=child, ChangedBlocksCount=1)
    assert get(ebs, child, 5, all_blocks(ebs, child)[5])[0] == data[5 * BLOCK]
    assert sorted(all_changes(ebs, child, snap.snapshot_id)) == [1]
    assert await read(dp, snapshot_id=child, offset=BLOCK, length=BLOCK) == new


async def test_a_grpc_upload_snapshot_takes_ebs_blocks(ebs, cp, dp):
    vol = await new_volume(cp, size=2 << 20, chunk=BLOCK)
    snap = await snapshot(cp, vol.volume_id, mode=UPLOAD)
    data = os.urandom(BLOCK)
    put(ebs, snap.snapshot_id, 3, data)
    assert ebs.complete_snapshot(SnapshotId=snap.snapshot_id,
                                 ChangedBlocksCount=1)["Status"] == "completed"
    assert await read(dp, snapshot_id=snap.snapshot_id, offset=3 * BLOCK, length=BLOCK) == data


async def test_other_chunk_sizes_are_refused_by_name(ebs, cp, dp):
    vol = await new_volume(cp, size=4 << 20, chunk=1 << 20)
    snap = await snapshot(cp, vol.volume_id)
    with pytest.raises(ClientError) as err:
        ebs.list_snapshot_blocks(SnapshotId=snap.snapshot_id)
    assert err.value.response["Reason"] == "INVALID_SNAPSHOT_ID"
    assert snap.snapshot_id in err.value.response["Message"]


def dp_list(snapshot_id: str) -> dp.ListBlocksRequest:
    return dp.ListBlocksRequest(snapshot_id=snapshot_id)


