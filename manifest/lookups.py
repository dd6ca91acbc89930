"""Account-scoped lookups both planes share: a missing object is a NOT_FOUND domain error.

Owns `require_volume`, `require_snapshot` and `visible_snapshot`. Rules: every lookup
is scoped to the caller's account; what it cannot see is NOT_FOUND, never a hint that it
exists.

A snapshot another account shared with the caller is visible (`visible_snapshot`) but not
the caller's: every lookup for a change (`require_snapshot`) answers PERMISSION_DENIED
NOT_OWNER for it, and NOT_FOUND for anything the caller can not see at all.
"""

from __future__ import annotations

from blockstore.errors import NotOwner, SnapshotNotFound, VolumeNotFound
from manifest.models import Share, Snapshot, Volume
from manifest.store import ManifestTx


async def require_volume(tx: ManifestTx, account_id: str, volume_id: str) -> Volume:
    volume = await tx.get_volume(account_id, volume_id) if volume_id else None
    if volume is None:
        raise VolumeNotFound(f"volume {volume_id!r} not found", volume_id=volume_id)
    return volume


async def require_snapshot(tx: ManifestTx, account_id: str, snapshot_id: str) -> Snapshot:
    """The caller's own snapshot, for anything that changes or writes it."""
    snap = await tx.get_snapshot(account_id, snapshot_id) if snapshot_id else None
    if snap is not None:
        return snap
    if snapshot_id and await tx.get_shared_snapshot(account_id, snapshot_id):
        raise NotOwner(f"snapshot {snapshot_id} is shared with this account; only its owner "
                       "may change it", snapshot_id=snapshot_id)
    raise SnapshotNotFound(f"snapshot {snapshot_id!r} not found", snapshot_id=snapshot_id)


async def visible_snapshot(tx: ManifestTx, account_id: str,
                           snapshot_id: str) -> tuple[Snapshot, Share | None]:
    """The caller's own snapshot (share None) or one shared with it (with its share)."""
    snap = await tx.get_snapshot(account_id, snapshot_id) if snapshot_id else None
    if snap is not None:
        return snap, None
    shared = await tx.get_shared_snapshot(account_id, snapshot_id) if snapshot_id else None
    if shared is None:
        raise SnapshotNotFound(f"snapshot {snapshot_id!r} not found", snapshot_id=snapshot_id)
    return shared
