"""Every ControlPlaneService RPC under hypothesis: each call succeeds or fails with its
documented status and reason; none touches the canary or the foreign account."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import control_plane_pb2 as cpb
from tests.hostile.hostile import (MIB, OK, TEXT, allowed, fuzz, garbage_ids, int32s, int64s,
                                   outcome, page_tokens, tokens, floats)
from tests.hostile.world import CHUNK

BAD_SIZE = ("INVALID_ARGUMENT", "INVALID_VOLUME_SIZE")
BAD_CHUNK = ("INVALID_ARGUMENT", "INVALID_CHUNK_SIZE")
BAD_ARG = ("INVALID_ARGUMENT", "INVALID_ARGUMENT")
NO_VOLUME = ("NOT_FOUND", "INVALID_VOLUME_ID")
NO_SNAPSHOT = ("NOT_FOUND", "INVALID_SNAPSHOT_ID")
BAD_TOKEN = ("INVALID_ARGUMENT", "INVALID_CHUNK_TOKEN")
UNKNOWN_TOKEN = ("FAILED_PRECONDITION", "INVALID_CHUNK_TOKEN")
BAD_PROGRESS = ("INVALID_ARGUMENT", "INVALID_PROGRESS")
LABELS = st.dictionaries(TEXT, TEXT, max_size=3) | st.sampled_from(
    [{"": "x"}, {"k" * 64: "v"}, {"k": "v" * 257}, {str(i): "" for i in range(65)}])


def volume_ok(size: int, chunk: int) -> bool:
    size = size or 1 << 30
    chunk = chunk or 1 << 20
    return (size % 512 == 0 and MIB <= size <= 64 << 40 and chunk > 0
            and chunk & (chunk - 1) == 0 and 64 << 10 <= chunk <= 4 << 20)


def sources(world):
    return st.one_of(st.just(""), garbage_ids("snap-"), st.sampled_from(
        world.foreign_snapshots + [world.a.ids["canary"]]))


@given(data=st.data(), size=int64s(), chunk=int64s(), key=TEXT | st.just("k" * 300),
       labels=LABELS)
@fuzz(100)
def test_create_volume(world, data, size, chunk, key, labels):
    source = data.draw(sources(world))
    got, reply = outcome(lambda: world.a.cp.CreateVolume(cpb.CreateVolumeRequest(
        size_bytes=size, chunk_size=chunk, source_snapshot_id=source, idempotency_key=key,
        labels=labels)), "CreateVolume")
    if source:
        allowed(got, NO_SNAPSHOT, BAD_ARG)     # no garbage or foreign id is ours
    elif got == OK:
        assert volume_ok(size, chunk), f"accepted size {size} chunk {chunk}"
        assert reply.volume.size_bytes == (size or 1 << 30)
    else:
        allowed(got, BAD_SIZE, BAD_CHUNK, BAD_ARG, ("ALREADY_EXISTS", "IDEMPOTENCY_KEY_REUSED"))
        if got in (BAD_SIZE, BAD_CHUNK):
            assert not volume_ok(size, chunk)


@given(volume_id=garbage_ids("vol-"))
@fuzz(60)
def test_get_volume(world, volume_id):
    got, _ = outcome(lambda: world.a.cp.GetVolume(cpb.GetVolumeRequest(volume_id=volume_id)),
                     "GetVolume")
    assert got == NO_VOLUME


@given(data=st.data())
@fuzz(20)
def test_get_foreign_volume_and_snapshot(world, data):
    """Another account's ids are NOT_FOUND, exactly like ids that never existed."""
    vid = data.draw(st.sampled_from(world.foreign_volumes))
    sid = data.draw(st.sampled_from(world.foreign_snapshots))
    got, _ = outcome(lambda: world.a.cp.GetVolume(cpb.GetVolumeRequest(volume_id=vid)),
                     "GetVolume")
    assert got == NO_VOLUME
    got, _ = outcome(lambda: world.a.cp.GetSnapshot(cpb.GetSnapshotRequest(snapshot_id=sid)),
                     "GetSnapshot")
    assert got == NO_SNAPSHOT


@given(page_size=int32s(), token=page_tokens())
@fuzz(80)
def test_list_volumes(world, page_size, token):
    got, reply = outcome(lambda: world.a.cp.ListVolumes(cpb.ListVolumesRequest(
        page_size=page_size, page_token=token)), "ListVolumes")
    if got == OK:
        assert page_size >= 0 and not token, "only a page token the server made is valid"
        ids = {v.volume_id for v in reply.volumes}
        assert not ids & set(world.foreign_volumes), "another account's volume was listed"
        assert len(reply.volumes) <= 1000
    else:
        assert got == BAD_ARG


@given(data=st.data(), allow_missing=st.booleans())
@fuzz(60)
def test_delete_volume(world, data, allow_missing):
    volume_id = data.draw(garbage_ids("vol-") | st.sampled_from(world.foreign_volumes))
    got, _ = outcome(lambda: world.a.cp.DeleteVolume(cpb.DeleteVolumeRequest(
        volume_id=volume_id, allow_missing=allow_missing)), "DeleteVolume")
    assert got == (OK if allow_missing else NO_VOLUME)


def chunk_refs():
    ref = st.builds(lambda o, t: pb.BlockRef(offset=o, token=t), int64s(CHUNK, 3 * CHUNK),
                    tokens())
    return st.lists(ref, min_size=1, max_size=4)


@given(data=st.data(), mode=st.sampled_from([0, 1, 2, 3, 99, -1, 2**31 - 1]),
       key=TEXT, description=TEXT | st.just("d" * 1025))
@fuzz(100)
def test_create_snapshot(world, data, mode, key, description):
    """Always hostile: a garbage/foreign volume, an unknown mode, or bad chunk tokens."""
    own = world.a.ids["pending_volume"]
    volume_id = data.draw(garbage_ids("vol-") | st.sampled_from(world.foreign_volumes + [own]))
    refs = data.draw(chunk_refs()) if volume_id == own else data.draw(
        st.lists(st.builds(pb.BlockRef, offset=int64s(), token=tokens()), max_size=2))
    if volume_id == own and mode in (0, 1, 2):
        mode = 2        # an UPLOAD snapshot with bad tokens: only tokens can fail it
        refs = refs + [pb.BlockRef(offset=-CHUNK, token=b"\0" * 32)]
    got, _ = outcome(lambda: world.a.cp.CreateSnapshot(cpb.CreateSnapshotRequest(
        volume_id=volume_id, mode=mode, chunk_tokens=refs, idempotency_key=key,
        description=description)), "CreateSnapshot")
    if volume_id == own:
        allowed(got, BAD_TOKEN, UNKNOWN_TOKEN, BAD_ARG)
        if mode == 2 and len(description) <= 1024:
            allowed(got, BAD_TOKEN, UNKNOWN_TOKEN)
    else:
        allowed(got, NO_VOLUME, BAD_ARG, BAD_TOKEN)


@given(snapshot_id=garbage_ids("snap-"))
@fuzz(60)
def test_get_snapshot(world, snapshot_id):
    got, _ = outcome(lambda: world.a.cp.GetSnapshot(cpb.GetSnapshotRequest(
        snapshot_id=snapshot_id)), "GetSnapshot")
    assert got == NO_SNAPSHOT


@given(data=st.data(), page_size=int32s(), token=page_tokens())
@fuzz(80)
def test_list_snapshots(world, data, page_size, token):
    volume_id = data.draw(st.just("") | garbage_ids("vol-") |
                          st.sampled_from(world.foreign_volumes))
    got, reply = outcome(lambda: world.a.cp.ListSnapshots(cpb.ListSnapshotsRequest(
        volume_id=volume_id, page_size=page_size, page_token=token)), "ListSnapshots")
    if got == OK:
        foreign = set(world.foreign_snapshots)
        assert not {s.snapshot_id for s in reply.snapshots} & foreign, \
            "another account's snapshot was listed"
        if volume_id:
            assert not reply.snapshots, "snapshots listed for a volume we do not own"
    else:
        assert got == BAD_ARG


@given(data=st.data(), progress=floats())
@fuzz(100)
def test_report_progress(world, data, progress):
    """Garbage and foreign ids are NOT_FOUND; our pending snapshot (at 0.25) takes no
    progress that is NaN, infinite, outside 0..1 or lower than before."""
    own = world.a.ids["pending"]
    snapshot_id = data.draw(garbage_ids("snap-") |
                            st.sampled_from(world.foreign_snapshots + [own]))
    if snapshot_id == own and not (math.isnan(progress) or progress < 0.25 or progress > 1):
        progress = data.draw(st.sampled_from([math.nan, math.inf, -math.inf, 0.2, 1.5]))
    got, _ = outcome(lambda: world.a.cp.ReportSnapshotProgress(
        cpb.ReportSnapshotProgressRequest(snapshot_id=snapshot_id, progress=progress)),
        "ReportSnapshotProgress")
    if snapshot_id == own:
        assert got == BAD_PROGRESS
    else:
        allowed(got, NO_SNAPSHOT, BAD_PROGRESS)


@given(data=st.data(), allow_missing=st.booleans())
@fuzz(60)
def test_delete_snapshot(world, data, allow_missing):
    snapshot_id = data.draw(garbage_ids("snap-") | st.sampled_from(world.foreign_snapshots))
    got, _ = outcome(lambda: world.a.cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(
        snapshot_id=snapshot_id, allow_missing=allow_missing)), "DeleteSnapshot")
    assert got == (OK if allow_missing else NO_SNAPSHOT)
