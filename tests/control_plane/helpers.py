"""Small helpers for control-plane tests: sizes, enum shorthands, one-line RPC wrappers."""

from __future__ import annotations

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import control_plane_pb2 as cpb

KIB, MIB, GIB, TIB = 1 << 10, 1 << 20, 1 << 30, 1 << 40
PIT, UPLOAD = pb.SNAPSHOT_MODE_POINT_IN_TIME, pb.SNAPSHOT_MODE_UPLOAD
PENDING, COMPLETED = pb.SNAPSHOT_STATE_PENDING, pb.SNAPSHOT_STATE_COMPLETED


async def new_volume(cp, **fields) -> pb.Volume:
    fields.setdefault("size_bytes", 8 * MIB)
    return (await cp.CreateVolume(cpb.CreateVolumeRequest(**fields))).volume


async def new_snapshot(cp, volume_id: str, mode=PIT, **fields) -> pb.Snapshot:
    request = cpb.CreateSnapshotRequest(volume_id=volume_id, mode=mode, **fields)
    return (await cp.CreateSnapshot(request)).snapshot


async def get_volume(cp, volume_id: str) -> pb.Volume:
    return (await cp.GetVolume(cpb.GetVolumeRequest(volume_id=volume_id))).volume


async def get_snapshot(cp, snapshot_id: str) -> pb.Snapshot:
    return (await cp.GetSnapshot(cpb.GetSnapshotRequest(snapshot_id=snapshot_id))).snapshot


async def progress(cp, snapshot_id: str, value: float) -> pb.Snapshot:
    request = cpb.ReportSnapshotProgressRequest(snapshot_id=snapshot_id, progress=value)
    return (await cp.ReportSnapshotProgress(request)).snapshot


async def all_volume_ids(cp, page_size: int = 1000) -> list[str]:
    ids, token = [], ""
    while True:
        page = await cp.ListVolumes(cpb.ListVolumesRequest(page_size=page_size,
                                                           page_token=token))
        ids += [v.volume_id for v in page.volumes]
        token = page.next_page_token
        if not token:
            return ids


async def all_snapshot_ids(cp, volume_id: str = "", page_size: int = 1000) -> list[str]:
    ids, token = [], ""
    while True:
        page = await cp.ListSnapshots(cpb.ListSnapshotsRequest(
            volume_id=volume_id, page_size=page_size, page_token=token))
        ids += [s.snapshot_id for s in page.snapshots]
        token = page.next_page_token
        if not token:
            return ids


async def initial_snapshot_id(cp, volume_id: str) -> str:
    """The id of a volume's initial snapshot (version 1, taken by CreateVolume)."""
    page = await cp.ListSnapshots(cpb.ListSnapshotsRequest(volume_id=volume_id,
                                                           page_size=1000))
    found = [s.snapshot_id for s in page.snapshots if s.version == 1]
    assert len(found) == 1, f"volume {volume_id} has one initial snapshot"
    return found[0]
