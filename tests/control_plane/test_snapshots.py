"""CreateSnapshot / GetSnapshot / ListSnapshots / ReportSnapshotProgress / DeleteSnapshot:
versions, parents, progress rules, chunk tokens, and snapshots that outlive their volume."""

from __future__ import annotations

import math

import grpc
import pytest

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import control_plane_pb2 as cpb
from tests.control_plane.helpers import (COMPLETED, MIB, PENDING, PIT, UPLOAD,
                                         all_snapshot_ids, get_snapshot, get_volume,
                                         initial_snapshot_id, new_snapshot, new_volume,
                                         progress)
from tests.rpcerrors import expect_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
TOKEN = bytes(range(32))


async def test_point_in_time_snapshot_completes_at_once_with_version_of_open_version(cp):
    volume = await new_volume(cp, size_bytes=4 * MIB, chunk_size=MIB, labels={"a": "b"})
    snap = await new_snapshot(cp, volume.volume_id, description="nightly", labels={"x": "y"})
    assert snap.snapshot_id.startswith("snap-"), "snapshot ids are snap- + random"
    assert snap.version == 2, "the first snapshot after the initial one takes open version 2"
    assert snap.state == COMPLETED and snap.progress == 1.0, "PIT with none pending completes"
    assert snap.completed_at.seconds > 0, "a completed snapshot has completed_at"
    assert snap.mode == PIT and (snap.size_bytes, snap.chunk_size) == (4 * MIB, MIB)
    assert (snap.description, dict(snap.labels)) == ("nightly", {"x": "y"})
    assert snap.volume_id == volume.volume_id
    assert snap.parent_snapshot_id == await initial_snapshot_id(cp, volume.volume_id), \
        "its parent is the volume's initial snapshot"
    assert (await get_volume(cp, volume.volume_id)).open_version == 3, \
        "taking a snapshot bumps the volume's open version"


async def test_unspecified_mode_means_point_in_time(cp):
    volume = await new_volume(cp)
    snap = await new_snapshot(cp, volume.volume_id, mode=pb.SNAPSHOT_MODE_UNSPECIFIED)
    assert snap.mode == PIT and snap.state == COMPLETED, "UNSPECIFIED mode is POINT_IN_TIME"


async def test_unknown_mode_is_invalid_argument(cp):
    volume = await new_volume(cp)
    await expect_error(cp.CreateSnapshot(cpb.CreateSnapshotRequest(
        volume_id=volume.volume_id, mode=7)), INVALID, "INVALID_ARGUMENT")


async def test_versions_increase_and_parent_is_previous_live_snapshot(cp):
    volume = await new_volume(cp)
    s1 = await new_snapshot(cp, volume.volume_id)
    s2 = await new_snapshot(cp, volume.volume_id)
    assert (s1.version, s2.version) == (2, 3), "versions come from the volume's counter"
    assert s2.parent_snapshot_id == s1.snapshot_id, "parent is the previous snapshot"
    await cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=s2.snapshot_id))
    s3 = await new_snapshot(cp, volume.volume_id)
    assert s3.version == 4, "a deleted snapshot's version is never reused"
    assert s3.parent_snapshot_id == s1.snapshot_id, "parent skips deleted snapshots"


async def test_clones_first_snapshot_has_the_source_as_parent(cp):
    volume = await new_volume(cp)
    source = await new_snapshot(cp, volume.volume_id)
    clone = await new_volume(cp, source_snapshot_id=source.snapshot_id)
    initial = await get_snapshot(cp, await initial_snapshot_id(cp, clone.volume_id))
    assert initial.parent_snapshot_id == source.snapshot_id, \
        "a clone's first (initial) snapshot has the source snapshot as parent"
    assert initial.version == 1 and initial.volume_id == clone.volume_id
    second = await new_snapshot(cp, clone.volume_id)
    assert second.parent_snapshot_id == initial.snapshot_id and second.version == 2


async def test_upload_snapshot_starts_pending_and_progress_1_completes_it(cp):
    volume = await new_volume(cp)
    snap = await new_snapshot(cp, volume.volume_id, mode=UPLOAD)
    assert (snap.mode, snap.state, snap.progress) == (UPLOAD, PENDING, 0.0), \
        "an UPLOAD snapshot starts PENDING at progress 0"
    assert not snap.HasField("completed_at"), "a pending snapshot has no completed_at"
    half = await progress(cp, snap.snapshot_id, 0.5)
    assert (half.state, half.progress) == (PENDING, 0.5), "progress below 1 stays pending"
    again = await progress(cp, snap.snapshot_id, 0.5)
    assert again.progress == 0.5, "reporting the same progress again is allowed"
    done = await progress(cp, snap.snapshot_id, 1.0)
    assert (done.state, done.progress) == (COMPLETED, 1.0), "progress 1.0 completes"
    assert await get_snapshot(cp, snap.snapshot_id) == done, "completion is read-after-write"


async def test_completion_in_creation_order_upload_then_point_in_time(cp):
    volume = await new_volume(cp)
    upload = await new_snapshot(cp, volume.volume_id, mode=UPLOAD)
    behind = await new_snapshot(cp, volume.volume_id, mode=PIT)
    assert behind.state == PENDING, "a PIT snapshot behind a pending one stays PENDING"
    second_upload = await new_snapshot(cp, volume.volume_id, mode=UPLOAD)
    assert [upload.version, behind.version, second_upload.version] == [2, 3, 4], \
        "versions 2, 3, 4 (after the initial snapshot's 1) in creation order"
    assert (await get_volume(cp, volume.volume_id)).open_version == 5, \
        "every snapshot bumped the open version"
    await expect_error(cp.ReportSnapshotProgress(cpb.ReportSnapshotProgressRequest(
        snapshot_id=second_upload.snapshot_id, progress=0.5)), PRECONDITION,
        "NOT_EARLIEST_OUTSTANDING", names=second_upload.snapshot_id)
    await expect_error(cp.ReportSnapshotProgress(cpb.ReportSnapshotProgressRequest(
        snapshot_id=behind.snapshot_id, progress=1.0)), PRECONDITION,
        "NOT_EARLIEST_OUTSTANDING", names=behind.snapshot_id)
    await progress(cp, upload.snapshot_id, 0.5)
    assert (await get_snapshot(cp, behind.snapshot_id)).state == PENDING, \
        "partial progress of the earlier snapshot completes nothing behind it"
    assert (await progress(cp, upload.snapshot_id, 1.0)).state == COMPLETED
    assert (await get_snapshot(cp, behind.snapshot_id)).state == COMPLETED, \
        "the PIT behind completes right after the earlier upload"
    assert (await get_snapshot(cp, second_upload.snapshot_id)).state == PENDING, \
        "a later UPLOAD still waits for its own progress"
    done = await progress(cp, second_upload.snapshot_id, 1.0)
    assert done.state == COMPLETED, "now the earliest outstanding, it accepts progress"


async def test_deleting_a_pending_earlier_snapshot_lets_later_point_in_time_complete(cp):
    volume = await new_volume(cp)
    upload = await new_snapshot(cp, volume.volume_id, mode=UPLOAD)
    behind = await new_snapshot(cp, volume.volume_id)
    assert behind.state == PENDING
    await cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=upload.snapshot_id))
    assert (await get_snapshot(cp, behind.snapshot_id)).state == COMPLETED, \
        "deleting the pending earlier snapshot completes the PIT behind it"


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan, math.inf])
async def test_progress_outside_0_1_or_nan_is_invalid_progress(cp, value):
    volume = await new_volume(cp)
    snap = await new_snapshot(cp, volume.volume_id, mode=UPLOAD)
    await expect_error(cp.ReportSnapshotProgress(cpb.ReportSnapshotProgressRequest(
        snapshot_id=snap.snapshot_id, progress=value)), INVALID, "INVALID_PROGRESS",
        names=snap.snapshot_id)


async def test_progress_lower_than_before_is_invalid_progress(cp):
    volume = await new_volume(cp)
    snap = await new_snapshot(cp, volume.volume_id, mode=UPLOAD)
    await progress(cp, snap.snapshot_id, 0.6)
    await expect_error(cp.ReportSnapshotProgress(cpb.ReportSnapshotProgressRequest(
        snapshot_id=snap.snapshot_id, progress=0.3)), INVALID, "INVALID_PROGRESS",
        names=snap.snapshot_id)
    assert (await get_snapshot(cp, snap.snapshot_id)).progress == 0.6, \
        "a rejected progress report changes nothing"


@pytest.mark.parametrize("mode", [PIT, UPLOAD])
async def test_progress_on_a_completed_snapshot_is_snapshot_already_complete(cp, mode):
    volume = await new_volume(cp)
    snap = await new_snapshot(cp, volume.volume_id, mode=mode)
    if mode == UPLOAD:
        await progress(cp, snap.snapshot_id, 1.0)
    await expect_error(cp.ReportSnapshotProgress(cpb.ReportSnapshotProgressRequest(
        snapshot_id=snap.snapshot_id, progress=1.0)), PRECONDITION,
        "SNAPSHOT_ALREADY_COMPLETE", names=snap.snapshot_id)


async def test_progress_on_unknown_snapshot_is_not_found(cp):
    await expect_error(cp.ReportSnapshotProgress(cpb.ReportSnapshotProgressRequest(
        snapshot_id="snap-nope", progress=0.5)), NOT_FOUND, "INVALID_SNAPSHOT_ID",
        names="snap-nope")


@pytest.mark.parametrize("volume_id", ["vol-nope", ""])
async def test_snapshot_of_unknown_volume_is_not_found_invalid_volume_id(cp, volume_id):
    await expect_error(cp.CreateSnapshot(cpb.CreateSnapshotRequest(volume_id=volume_id)),
                       NOT_FOUND, "INVALID_VOLUME_ID", names=volume_id)


async def test_snapshot_of_deleted_volume_is_not_found_invalid_volume_id(cp):
    volume = await new_volume(cp)
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=volume.volume_id))
    await expect_error(cp.CreateSnapshot(cpb.CreateSnapshotRequest(volume_id=volume.volume_id)),
                       NOT_FOUND, "INVALID_VOLUME_ID", names=volume.volume_id)


async def test_chunk_tokens_on_point_in_time_snapshot_are_invalid_chunk_token(cp):
    volume = await new_volume(cp)
    await expect_error(cp.CreateSnapshot(cpb.CreateSnapshotRequest(
        volume_id=volume.volume_id, mode=PIT,
        chunk_tokens=[pb.BlockRef(offset=0, token=TOKEN)])),
        INVALID, "INVALID_CHUNK_TOKEN", names=volume.volume_id)


@pytest.mark.parametrize("refs", [
    [(0, b"short")],                              # not 32 bytes
    [(0, TOKEN + b"x")],                          # 33 bytes
    [(MIB + 512, TOKEN)],                         # not chunk-aligned
    [(4 * MIB, TOKEN)],                           # at the end: out of range
    [(-MIB, TOKEN)],                              # negative
    [(MIB, TOKEN), (MIB, bytes(32))],             # one offset twice
], ids=["short", "long", "unaligned", "past-end", "negative", "duplicate"])
async def test_malformed_chunk_tokens_are_invalid_argument_invalid_chunk_token(cp, refs):
    volume = await new_volume(cp, size_bytes=4 * MIB, chunk_size=MIB)
    before = (await get_volume(cp, volume.volume_id)).open_version
    await expect_error(cp.CreateSnapshot(cpb.CreateSnapshotRequest(
        volume_id=volume.volume_id, mode=UPLOAD,
        chunk_tokens=[pb.BlockRef(offset=o, token=t) for o, t in refs])),
        INVALID, "INVALID_CHUNK_TOKEN", names=volume.volume_id)
    assert (await get_volume(cp, volume.volume_id)).open_version == before, \
        "a rejected CreateSnapshot takes no version"
    assert await all_snapshot_ids(cp, volume.volume_id) == [
        await initial_snapshot_id(cp, volume.volume_id)], \
        "a rejected CreateSnapshot creates no snapshot"


async def test_chunk_token_unknown_to_the_account_is_failed_precondition(cp):
    volume = await new_volume(cp, size_bytes=4 * MIB, chunk_size=MIB)
    info = await expect_error(cp.CreateSnapshot(cpb.CreateSnapshotRequest(
        volume_id=volume.volume_id, mode=UPLOAD,
        chunk_tokens=[pb.BlockRef(offset=2 * MIB, token=TOKEN)])),
        PRECONDITION, "INVALID_CHUNK_TOKEN", names=TOKEN.hex())
    assert info.metadata.get("offset") == str(2 * MIB), "ErrorInfo names the offending offset"
    assert await all_snapshot_ids(cp, volume.volume_id) == [
        await initial_snapshot_id(cp, volume.volume_id)], "nothing was created"


@pytest.mark.parametrize("snapshot_id", ["snap-nope", ""])
async def test_get_unknown_snapshot_is_not_found_invalid_snapshot_id(cp, snapshot_id):
    await expect_error(cp.GetSnapshot(cpb.GetSnapshotRequest(snapshot_id=snapshot_id)),
                       NOT_FOUND, "INVALID_SNAPSHOT_ID", names=snapshot_id)


async def test_list_snapshots_all_and_filtered_by_volume(cp):
    a, b = await new_volume(cp), await new_volume(cp)
    sa = [(await new_snapshot(cp, a.volume_id)).snapshot_id for _ in range(2)]
    sb = [(await new_snapshot(cp, b.volume_id, mode=UPLOAD)).snapshot_id]
    sa.append(await initial_snapshot_id(cp, a.volume_id))
    sb.append(await initial_snapshot_id(cp, b.volume_id))
    assert sorted(await all_snapshot_ids(cp)) == sorted(sa + sb), "unfiltered: all of mine"
    assert sorted(await all_snapshot_ids(cp, a.volume_id)) == sorted(sa), "filter by volume"
    assert await all_snapshot_ids(cp, "vol-nope") == [], "unknown volume filter: empty list"


async def test_snapshots_outlive_their_volume(cp):
    volume = await new_volume(cp)
    snap = await new_snapshot(cp, volume.volume_id)
    upload = await new_snapshot(cp, volume.volume_id, mode=UPLOAD)
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=volume.volume_id))
    assert await get_snapshot(cp, snap.snapshot_id) == snap, \
        "GetSnapshot still works after DeleteVolume"
    initial = await initial_snapshot_id(cp, volume.volume_id)
    assert sorted(await all_snapshot_ids(cp, volume.volume_id)) == sorted(
        [initial, snap.snapshot_id, upload.snapshot_id]), \
        "ListSnapshots(deleted volume) still lists them"
    clone = await new_volume(cp, source_snapshot_id=snap.snapshot_id)
    assert clone.source_snapshot_id == snap.snapshot_id, \
        "a snapshot of a deleted volume can still be cloned"
    done = await progress(cp, upload.snapshot_id, 1.0)
    assert done.state == COMPLETED, "a pending upload of a deleted volume can still complete"


async def test_deleted_snapshot_vanishes_at_once(cp):
    volume = await new_volume(cp)
    keep, gone = (await new_snapshot(cp, volume.volume_id),
                  await new_snapshot(cp, volume.volume_id))
    await cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=gone.snapshot_id))
    assert sorted(await all_snapshot_ids(cp)) == sorted(
        [keep.snapshot_id, await initial_snapshot_id(cp, volume.volume_id)]), \
        "gone from the list at once"
    await expect_error(cp.GetSnapshot(cpb.GetSnapshotRequest(snapshot_id=gone.snapshot_id)),
                       NOT_FOUND, "INVALID_SNAPSHOT_ID", names=gone.snapshot_id)


async def test_delete_missing_snapshot_is_not_found_unless_allow_missing(cp):
    await expect_error(cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id="snap-nope")),
                       NOT_FOUND, "INVALID_SNAPSHOT_ID", names="snap-nope")
    await cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id="snap-nope",
                                                      allow_missing=True))


async def test_snapshot_source_of_a_live_volume_is_snapshot_has_dependent_volumes(cp):
    volume = await new_volume(cp)
    snap = await new_snapshot(cp, volume.volume_id)
    await new_volume(cp, source_snapshot_id=snap.snapshot_id)
    await expect_error(cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=snap.snapshot_id,
                                                                   allow_missing=True)),
                       PRECONDITION, "SNAPSHOT_HAS_DEPENDENT_VOLUMES", names=snap.snapshot_id)
    assert await get_snapshot(cp, snap.snapshot_id) == snap, "the refused delete kept it"


async def test_source_of_a_deleted_clone_with_surviving_snapshots_stays_protected(cp):
    volume = await new_volume(cp)
    source = await new_snapshot(cp, volume.volume_id)
    clone = await new_volume(cp, source_snapshot_id=source.snapshot_id)
    await new_snapshot(cp, clone.volume_id)
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=clone.volume_id))
    await expect_error(cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(
        snapshot_id=source.snapshot_id)), PRECONDITION, "SNAPSHOT_HAS_DEPENDENT_VOLUMES",
        names=source.snapshot_id)
    assert await get_snapshot(cp, source.snapshot_id) == source, \
        "a snapshot the clone's surviving snapshots read through is not deleted"


async def test_source_of_a_deleted_clone_without_snapshots_can_be_deleted(cp):
    volume = await new_volume(cp)
    source = await new_snapshot(cp, volume.volume_id)
    clone = await new_volume(cp, source_snapshot_id=source.snapshot_id)
    initial = await initial_snapshot_id(cp, clone.volume_id)
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=clone.volume_id))
    await expect_error(cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(
        snapshot_id=source.snapshot_id)), PRECONDITION, "SNAPSHOT_HAS_DEPENDENT_VOLUMES",
        names=source.snapshot_id)    # the clone's initial snapshot still reads through it
    await cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=initial))
    await cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=source.snapshot_id))
    await expect_error(cp.GetSnapshot(cpb.GetSnapshotRequest(snapshot_id=source.snapshot_id)),
                       NOT_FOUND, "INVALID_SNAPSHOT_ID")
