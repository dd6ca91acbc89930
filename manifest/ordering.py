"""Snapshot ordering rules both planes apply inside their manifest transactions.

Snapshots of one volume complete in creation (version) order. Only the earliest
outstanding (pending, not deleted) snapshot of a volume accepts uploads and progress;
a point-in-time snapshot behind a pending one completes by itself as soon as every
earlier one has.
"""

from __future__ import annotations

from blockstore.errors import NotEarliestOutstanding, SnapshotAlreadyComplete
from manifest.models import Snapshot, SnapshotMode, SnapshotState
from manifest.store import ManifestTx


async def require_earliest_outstanding(tx: ManifestTx, snapshot: Snapshot) -> None:
    """Raise unless `snapshot` is pending and no earlier snapshot of its volume is."""
    if snapshot.completed:
        raise SnapshotAlreadyComplete(f"snapshot {snapshot.snapshot_id} is already complete",
                                      snapshot_id=snapshot.snapshot_id)
    for other in await tx.volume_snapshots(snapshot.vid):
        if other.version >= snapshot.version:
            break
        if not other.completed:
            raise NotEarliestOutstanding(
                f"snapshot {snapshot.snapshot_id} waits behind pending snapshot "
                f"{other.snapshot_id} of volume {snapshot.volume_id}",
                snapshot_id=snapshot.snapshot_id, earlier_snapshot_id=other.snapshot_id)


async def complete_ready(tx: ManifestTx, vid: int, now_us: int) -> list[Snapshot]:
    """Complete, in version order, every pending snapshot whose turn has come."""
    done = []
    for snap in await tx.volume_snapshots(vid):
        if snap.completed:
            continue
        if snap.mode is SnapshotMode.UPLOAD and snap.progress < 1.0:
            break
        snap = snap.replace(state=SnapshotState.COMPLETED, progress=1.0, completed_at=now_us)
        await tx.update_snapshot(snap)
        done.append(snap)
    return done
