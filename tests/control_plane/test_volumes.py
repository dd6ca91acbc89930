"""CreateVolume / GetVolume / ListVolumes / DeleteVolume over real gRPC: sizes, chunk
sizes, clones, deletes with allow_missing, and the errors each one can return."""

from __future__ import annotations

import grpc
import pytest

from blockstore.v1 import control_plane_pb2 as cpb
from tests.control_plane.helpers import (GIB, KIB, MIB, TIB, all_volume_ids, get_volume,
                                         initial_snapshot_id, new_snapshot, new_volume)
from tests.rpcerrors import expect_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND


async def test_blank_volume_defaults_to_1gib_1mib_chunks_open_version_2(cp):
    response = await cp.CreateVolume(cpb.CreateVolumeRequest(labels={"team": "db"}))
    volume = response.volume
    assert volume.volume_id.startswith("vol-"), "volume ids are vol- + random"
    assert (volume.size_bytes, volume.chunk_size) == (GIB, MIB), "defaults: 1 GiB, 1 MiB chunks"
    assert volume.open_version == 2, "a new volume's initial snapshot took version 1"
    assert volume.source_snapshot_id == "" and response.initial_snapshot_id, \
        "a blank volume has no source, and an initial snapshot"
    assert dict(volume.labels) == {"team": "db"}, "labels round-trip"
    assert volume.created_at.seconds > 0, "created_at is set"


async def test_get_volume_returns_what_create_returned(cp):
    created = await new_volume(cp, size_bytes=3 * MIB, chunk_size=64 * KIB)
    assert await get_volume(cp, created.volume_id) == created, "GetVolume == CreateVolume result"


@pytest.mark.parametrize("size", [MIB, 64 * TIB, MIB + 512, 10 * GIB])
async def test_volume_size_limits_are_inclusive(cp, size):
    assert (await new_volume(cp, size_bytes=size)).size_bytes == size


@pytest.mark.parametrize("size", [MIB - 512, MIB + 1, 64 * TIB + 512, -MIB])
async def test_volume_size_outside_limits_or_unaligned_is_invalid_volume_size(cp, size):
    await expect_error(cp.CreateVolume(cpb.CreateVolumeRequest(size_bytes=size)), INVALID,
                       "INVALID_VOLUME_SIZE", names=str(size))


@pytest.mark.parametrize("chunk", [64 * KIB, 128 * KIB, 4 * MIB])
async def test_chunk_size_power_of_two_within_limits_is_accepted(cp, chunk):
    assert (await new_volume(cp, chunk_size=chunk)).chunk_size == chunk


@pytest.mark.parametrize("chunk", [32 * KIB, 8 * MIB, 3 * MIB, 100_000, -MIB])
async def test_chunk_size_not_power_of_two_or_outside_limits_is_invalid_chunk_size(cp, chunk):
    await expect_error(cp.CreateVolume(cpb.CreateVolumeRequest(size_bytes=8 * MIB,
                                                               chunk_size=chunk)),
                       INVALID, "INVALID_CHUNK_SIZE", names=str(chunk))


async def test_clone_inherits_source_size_and_chunk_size_and_names_source(cp):
    source_volume = await new_volume(cp, size_bytes=5 * MIB, chunk_size=256 * KIB)
    snap = await new_snapshot(cp, source_volume.volume_id)
    response = await cp.CreateVolume(cpb.CreateVolumeRequest(source_snapshot_id=snap.snapshot_id))
    clone = response.volume
    assert (clone.size_bytes, clone.chunk_size) == (5 * MIB, 256 * KIB), \
        "size 0 / chunk 0 on a clone take the source's"
    assert clone.source_snapshot_id == snap.snapshot_id, "a clone records its source"
    assert response.initial_snapshot_id not in ("", snap.snapshot_id), \
        "a clone's initial snapshot is its own, not its source"
    assert clone.open_version == 2, "a clone starts at open version 2 too"


async def test_clone_may_grow_but_not_shrink(cp):
    source_volume = await new_volume(cp, size_bytes=4 * MIB)
    snap = await new_snapshot(cp, source_volume.volume_id)
    grown = await new_volume(cp, size_bytes=6 * MIB, source_snapshot_id=snap.snapshot_id)
    assert grown.size_bytes == 6 * MIB, "a clone may be larger than its source"
    await expect_error(cp.CreateVolume(cpb.CreateVolumeRequest(
        size_bytes=2 * MIB, source_snapshot_id=snap.snapshot_id)),
        INVALID, "INVALID_VOLUME_SIZE", names=str(2 * MIB))


async def test_clone_with_a_different_chunk_size_is_invalid_chunk_size(cp):
    source_volume = await new_volume(cp, chunk_size=MIB)
    snap = await new_snapshot(cp, source_volume.volume_id)
    await expect_error(cp.CreateVolume(cpb.CreateVolumeRequest(
        chunk_size=512 * KIB, source_snapshot_id=snap.snapshot_id)),
        INVALID, "INVALID_CHUNK_SIZE", names=snap.snapshot_id)


async def test_clone_of_unknown_snapshot_is_not_found_invalid_snapshot_id(cp):
    await expect_error(cp.CreateVolume(cpb.CreateVolumeRequest(
        source_snapshot_id="snap-doesnotexist")), NOT_FOUND, "INVALID_SNAPSHOT_ID",
        names="snap-doesnotexist")


async def test_clone_of_deleted_snapshot_is_not_found(cp):
    volume = await new_volume(cp)
    snap = await new_snapshot(cp, volume.volume_id)
    await cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=snap.snapshot_id))
    await expect_error(cp.CreateVolume(cpb.CreateVolumeRequest(
        source_snapshot_id=snap.snapshot_id)), NOT_FOUND, "INVALID_SNAPSHOT_ID",
        names=snap.snapshot_id)


@pytest.mark.parametrize("volume_id", ["vol-doesnotexist", ""])
async def test_get_unknown_volume_is_not_found_invalid_volume_id(cp, volume_id):
    await expect_error(cp.GetVolume(cpb.GetVolumeRequest(volume_id=volume_id)), NOT_FOUND,
                       "INVALID_VOLUME_ID", names=volume_id)


async def test_list_volumes_lists_own_volumes_and_page_size_zero_means_default(cp):
    created = {(await new_volume(cp)).volume_id for _ in range(3)}
    page = await cp.ListVolumes(cpb.ListVolumesRequest())
    assert {v.volume_id for v in page.volumes} == created, "ListVolumes lists exactly mine"
    assert page.next_page_token == "", "a short listing has no next page"


async def test_deleted_volume_vanishes_at_once_from_get_and_list(cp):
    keep, gone = await new_volume(cp), await new_volume(cp)
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=gone.volume_id))
    assert await all_volume_ids(cp) == [keep.volume_id], "deleted volume is gone from lists"
    await expect_error(cp.GetVolume(cpb.GetVolumeRequest(volume_id=gone.volume_id)), NOT_FOUND,
                       "INVALID_VOLUME_ID", names=gone.volume_id)


async def test_delete_missing_volume_is_not_found_unless_allow_missing(cp):
    volume = await new_volume(cp)
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=volume.volume_id))
    await expect_error(cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=volume.volume_id)),
                       NOT_FOUND, "INVALID_VOLUME_ID", names=volume.volume_id)
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=volume.volume_id,
                                                  allow_missing=True))
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id="vol-never", allow_missing=True))


async def test_deleting_a_clone_frees_its_source_snapshot_for_deletion(cp):
    volume = await new_volume(cp)
    snap = await new_snapshot(cp, volume.volume_id)
    clone = await new_volume(cp, source_snapshot_id=snap.snapshot_id)
    await expect_error(cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=snap.snapshot_id)),
                       grpc.StatusCode.FAILED_PRECONDITION, "SNAPSHOT_HAS_DEPENDENT_VOLUMES",
                       names=snap.snapshot_id)
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=clone.volume_id))
    await cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(
        snapshot_id=await initial_snapshot_id(cp, clone.volume_id)))
    await cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=snap.snapshot_id))


@pytest.mark.parametrize("field,value", [("idempotency_key", "k" * 257),
                                         ("labels", {"": "empty key"})])
async def test_oversized_or_malformed_common_fields_are_invalid_argument(cp, field, value):
    await expect_error(cp.CreateVolume(cpb.CreateVolumeRequest(**{field: value})), INVALID,
                       "INVALID_ARGUMENT")
