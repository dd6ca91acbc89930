"""Invariant 1 for clones: a snapshot of a volume that reads through a source which still
changes (a pending UPLOAD snapshot, or a point-in-time one queued behind it, at any depth
of the clone chain) stays PENDING, and completes by itself, in the same call, when the
source completes or is deleted. A COMPLETED snapshot never changes afterwards."""

from __future__ import annotations

import asyncio

from blockstore.v1 import control_plane_pb2 as cpb
from tests.data_plane.helpers import (CHUNK, COMPLETED, MIB, PENDING, UPLOAD, Vol, clone,
                                      complete, get_snapshot, new_volume, rand, read,
                                      snapshot, upload)
from tests.gc.helpers import gc_cli, verify_cli


async def upload_to(dp, vol: Vol, snap, blocks) -> None:
    await upload(dp, vol, blocks, snapshot_id=snap.snapshot_id, data_version=snap.version)


async def states(cp, *snaps) -> list:
    return [(await get_snapshot(cp, s.snapshot_id)).state for s in snaps]


async def test_snapshot_of_clone_of_pending_upload_waits_for_the_source(cp, dp):
    src = await new_volume(cp, size=MIB)
    up = await snapshot(cp, src.volume_id, mode=UPLOAD)
    await upload_to(dp, src, up, [(0, rand(CHUNK))])
    c = await clone(cp, up.snapshot_id)
    pit = await snapshot(cp, c.volume_id)
    assert pit.state == PENDING, \
        "a snapshot of a clone of a pending UPLOAD snapshot can not complete: its source changes"
    await upload_to(dp, src, up, [(CHUNK, rand(CHUNK))])
    done = await complete(cp, up.snapshot_id)
    assert done.state == COMPLETED
    assert await states(cp, pit) == [COMPLETED], \
        "the clone's snapshot completes by itself when its source completes"
    frozen = await read(dp, snapshot_id=pit.snapshot_id)
    assert frozen == bytes(src.image), "it holds everything the source received"
    cvol = Vol(c.volume_id, c.size_bytes, c.chunk_size, bytearray(frozen))
    await upload(dp, cvol, [(0, rand(CHUNK))])
    await upload(dp, src, [(2 * CHUNK, rand(CHUNK))])
    assert await read(dp, snapshot_id=pit.snapshot_id) == frozen, "invariant 1"


async def test_upload_snapshot_of_clone_completes_only_after_its_source(cp, dp):
    src = await new_volume(cp, size=MIB)
    up = await snapshot(cp, src.volume_id, mode=UPLOAD)
    c = await clone(cp, up.snapshot_id)
    cvol = Vol(c.volume_id, c.size_bytes, c.chunk_size)
    cup = await snapshot(cp, c.volume_id, mode=UPLOAD)
    await upload_to(dp, cvol, cup, [(CHUNK, rand(CHUNK))])
    reported = await complete(cp, cup.snapshot_id)
    assert reported.state == PENDING and reported.progress == 1.0, \
        "progress 1.0 is recorded, but the snapshot waits for the clone's pending source"
    await upload_to(dp, src, up, [(0, rand(CHUNK))])
    await complete(cp, up.snapshot_id)
    assert await states(cp, cup) == [COMPLETED]
    expected = bytearray(src.image)
    expected[CHUNK:2 * CHUNK] = cvol.image[CHUNK:2 * CHUNK]
    assert await read(dp, snapshot_id=cup.snapshot_id) == bytes(expected)


async def test_snapshot_of_clone_of_queued_point_in_time_snapshot_waits(cp, dp):
    src = await new_volume(cp, size=MIB)
    await upload(dp, src, [(0, rand(CHUNK))])
    up = await snapshot(cp, src.volume_id, mode=UPLOAD)
    queued = await snapshot(cp, src.volume_id)
    assert queued.state == PENDING, "a point-in-time snapshot behind a pending one waits"
    c = await clone(cp, queued.snapshot_id)
    pit = await snapshot(cp, c.volume_id)
    assert pit.state == PENDING, \
        "its clone's snapshot reads through to the UPLOAD snapshot's uploads: it must wait"
    await upload_to(dp, src, up, [(CHUNK, rand(CHUNK))])
    await complete(cp, up.snapshot_id)
    assert await states(cp, queued, pit) == [COMPLETED, COMPLETED], \
        "completing the UPLOAD snapshot completes both, in the same call"
    frozen = await read(dp, snapshot_id=pit.snapshot_id)
    assert frozen == bytes(src.image)
    await upload(dp, src, [(CHUNK, rand(CHUNK))])
    assert await read(dp, snapshot_id=pit.snapshot_id) == frozen, "invariant 1"


async def test_clones_of_clones_wait_for_the_whole_lineage(cp, dp):
    src = await new_volume(cp, size=MIB)
    up = await snapshot(cp, src.volume_id, mode=UPLOAD)
    c1 = await clone(cp, up.snapshot_id)
    s1 = await snapshot(cp, c1.volume_id)
    c2 = await clone(cp, s1.snapshot_id)
    s2 = await snapshot(cp, c2.volume_id)
    c3 = await clone(cp, s2.snapshot_id)
    s3 = await snapshot(cp, c3.volume_id)
    assert await states(cp, s1, s2, s3) == [PENDING] * 3, \
        "every snapshot down the clone chain reads the pending UPLOAD snapshot"
    await upload_to(dp, src, up, [(3 * CHUNK, rand(CHUNK))])
    await complete(cp, up.snapshot_id)
    assert await states(cp, s1, s2, s3) == [COMPLETED] * 3, "they complete transitively"
    for s in (s1, s2, s3):
        assert await read(dp, snapshot_id=s.snapshot_id) == bytes(src.image)


async def test_deleting_the_pending_source_completes_what_waited(cp, dp):
    src = await new_volume(cp, size=MIB)
    await upload(dp, src, [(0, rand(CHUNK))])
    base = bytes(src.image)
    up = await snapshot(cp, src.volume_id, mode=UPLOAD)
    queued = await snapshot(cp, src.volume_id)
    c = await clone(cp, queued.snapshot_id)
    pit = await snapshot(cp, c.volume_id)
    assert pit.state == PENDING
    await cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=up.snapshot_id))
    assert await states(cp, queued, pit) == [COMPLETED, COMPLETED], \
        "once the UPLOAD snapshot is deleted nothing can change the lineage any more"
    assert await read(dp, snapshot_id=pit.snapshot_id) == base


async def test_snapshot_of_a_deleted_clone_completes_when_its_source_does(cp, dp):
    src = await new_volume(cp, size=MIB)
    up = await snapshot(cp, src.volume_id, mode=UPLOAD)
    c = await clone(cp, up.snapshot_id)
    pit = await snapshot(cp, c.volume_id)
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=c.volume_id))
    assert await states(cp, pit) == [PENDING]
    await upload_to(dp, src, up, [(0, rand(CHUNK))])
    await complete(cp, up.snapshot_id)
    assert await states(cp, pit) == [COMPLETED], \
        "a surviving snapshot of a deleted clone completes by itself too"
    assert await read(dp, snapshot_id=pit.snapshot_id) == bytes(src.image)


async def test_gc_keeps_what_a_completed_clone_snapshot_reads(server, cp, dp):
    src = await new_volume(cp, size=MIB)
    await upload(dp, src, [(0, rand(CHUNK)), (CHUNK, rand(CHUNK))])
    up = await snapshot(cp, src.volume_id, mode=UPLOAD)
    queued = await snapshot(cp, src.volume_id)
    c = await clone(cp, queued.snapshot_id)
    pit = await snapshot(cp, c.volume_id)
    await upload_to(dp, src, up, [(CHUNK, rand(CHUNK))])
    await complete(cp, up.snapshot_id)
    frozen = await read(dp, snapshot_id=pit.snapshot_id)
    assert frozen == bytes(src.image)
    await upload(dp, src, [(0, rand(CHUNK)), (CHUNK, rand(CHUNK))])
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=c.volume_id))
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=src.volume_id))
    await asyncio.to_thread(gc_cli, server.data_dir, 0, server.db_url)
    assert await read(dp, snapshot_id=pit.snapshot_id) == frozen, \
        "GC keeps every row and chunk a completed snapshot of a deleted clone reads"
    assert (await asyncio.to_thread(verify_cli, server.data_dir, server.db_url))[0] == 0
