"""Account-scoped lookups both planes share: a missing object is a NOT_FOUND domain error."""

from __future__ import annotations

from blockstore.errors import SnapshotNotFound, VolumeNotFound
from manifest.models import Snapshot, Volume
from manifest.store import ManifestTx


async def require_volume(tx: ManifestTx, account_id: str, volume_id: str) -> Volume:
    volume = await tx.get_volume(account_id, volume_id) if volume_id else None
    if volume is None:
        raise VolumeNotFound(f"volume {volume_id!r} not found", volume_id=volume_id)
    return volume


async def require_snapshot(tx: ManifestTx, account_id: str, snapshot_id: str) -> Snapshot:
    snap = await tx.get_snapshot(account_id, snapshot_id) if snapshot_id else None
    if snap is None:
        raise SnapshotNotFound(f"snapshot {snapshot_id!r} not found", snapshot_id=snapshot_id)
    return snap
