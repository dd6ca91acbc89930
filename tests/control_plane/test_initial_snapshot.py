"""Every CreateVolume takes a POINT_IN_TIME snapshot of the new volume in the same
transaction: version 1, the volume opens at 2, the next snapshot's parent is it."""

from __future__ import annotations

from blockstore.v1 import control_plane_pb2 as cpb
from tests.data_plane.helpers import (CHUNK, COMPLETED, MIB, PENDING, PIT, UPLOAD, Vol, b3,
                                      complete, get_snapshot, get_volume, list_blocks,
                                      list_changes, rand, read, snapshot, upload)


async def create(cp, **fields) -> cpb.CreateVolumeResponse:
    fields.setdefault("size_bytes", MIB)
    fields.setdefault("chunk_size", CHUNK)
    return await cp.CreateVolume(cpb.CreateVolumeRequest(**fields))


async def test_blank_volume_gets_a_completed_initial_snapshot_of_zeros(cp, dp):
    created = await create(cp)
    volume = created.volume
    assert created.initial_snapshot_id, "CreateVolume returns its initial snapshot's id"
    initial = await get_snapshot(cp, created.initial_snapshot_id)
    assert (initial.volume_id, initial.version, initial.mode, initial.state) == \
        (volume.volume_id, 1, PIT, COMPLETED)
    assert initial.parent_snapshot_id == "" and volume.source_snapshot_id == ""
    assert volume.open_version == 2 == (await get_volume(cp, volume.volume_id)).open_version, \
        "the initial snapshot took version 1; writes land at 2"
    vol = Vol(volume.volume_id, volume.size_bytes, volume.chunk_size)
    await upload(dp, vol, [(0, rand(CHUNK))])
    assert await read(dp, snapshot_id=initial.snapshot_id) == bytes(MIB), \
        "the initial snapshot of a blank volume reads zeros, whatever is written later"
    assert await list_blocks(dp, snapshot_id=initial.snapshot_id) == []


async def test_next_snapshot_has_the_initial_one_as_parent_and_diffs_from_it(cp, dp):
    created = await create(cp)
    vol = Vol(created.volume.volume_id, MIB, CHUNK)
    a, b = rand(CHUNK), rand(CHUNK)
    await upload(dp, vol, [(0, a), (5 * CHUNK, b), (6 * CHUNK, None)])
    nxt = await snapshot(cp, vol.volume_id)
    assert nxt.version == 2 and nxt.parent_snapshot_id == created.initial_snapshot_id
    assert await list_changes(dp, nxt.snapshot_id, created.initial_snapshot_id) == [
        (0, b"", b3(a), False, False), (5 * CHUNK, b"", b3(b), False, False),
        (6 * CHUNK, b"", b"", False, True)], "exactly what was written since creation"


async def test_clone_initial_snapshot_reads_the_source_and_keeps_source_id(cp, dp):
    src = await create(cp)
    vol = Vol(src.volume.volume_id, MIB, CHUNK)
    await upload(dp, vol, [(CHUNK, rand(CHUNK))])
    s = await snapshot(cp, vol.volume_id)
    created = await create(cp, size_bytes=0, chunk_size=0, source_snapshot_id=s.snapshot_id)
    assert created.volume.source_snapshot_id == s.snapshot_id, "the source stays on the volume"
    assert created.initial_snapshot_id not in ("", s.snapshot_id)
    initial = await get_snapshot(cp, created.initial_snapshot_id)
    assert (initial.version, initial.state, initial.parent_snapshot_id) == \
        (1, COMPLETED, s.snapshot_id)
    cvol = Vol(created.volume.volume_id, MIB, CHUNK, bytearray(vol.image))
    await upload(dp, cvol, [(0, rand(CHUNK))])
    assert await read(dp, snapshot_id=initial.snapshot_id) == bytes(vol.image), \
        "a clone's initial snapshot reads what the clone read at creation"


async def test_clone_of_pending_source_has_a_pending_initial_snapshot(cp, dp):
    src = await create(cp)
    vol = Vol(src.volume.volume_id, MIB, CHUNK)
    up = await snapshot(cp, vol.volume_id, mode=UPLOAD)
    created = await create(cp, size_bytes=0, chunk_size=0, source_snapshot_id=up.snapshot_id)
    assert (await get_snapshot(cp, created.initial_snapshot_id)).state == PENDING
    await upload(dp, vol, [(0, rand(CHUNK))], snapshot_id=up.snapshot_id,
                 data_version=up.version)
    await complete(cp, up.snapshot_id)
    assert (await get_snapshot(cp, created.initial_snapshot_id)).state == COMPLETED
    assert await read(dp, snapshot_id=created.initial_snapshot_id) == bytes(vol.image)


async def test_retry_returns_the_same_volume_and_initial_snapshot(cp):
    first = await create(cp, idempotency_key="initial-retry")
    again = await create(cp, idempotency_key="initial-retry")
    assert (again.volume.volume_id, again.initial_snapshot_id) == \
        (first.volume.volume_id, first.initial_snapshot_id)
    listed = await cp.ListSnapshots(cpb.ListSnapshotsRequest(volume_id=first.volume.volume_id))
    assert [s.snapshot_id for s in listed.snapshots] == [first.initial_snapshot_id], \
        "the retry created no second snapshot"
    volume = await get_volume(cp, first.volume.volume_id)
    assert again.volume.open_version == volume.open_version == 2
