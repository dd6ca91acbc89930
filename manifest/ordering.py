"""Snapshot ordering rules both planes apply inside their manifest transactions.

Rule 1 (order): snapshots of one volume complete in creation (version) order. Only the
earliest outstanding (pending, not deleted) snapshot of a volume accepts uploads and
progress.

Rule 2 (a settled lineage): a clone reads through to its source snapshot, and that one
may still change: a pending UPLOAD snapshot receives blocks, and a point-in-time one
queued behind it reads them too. So a snapshot completes only when nothing it reads
through can change any more: for every source along its volume's clone chain, no live
snapshot of the source's volume at or below the source's version is pending. A deleted
snapshot receives nothing, so deleting a pending source settles it as well.

Invariant kept: a COMPLETED snapshot reads byte-identical forever. Whatever completes or
deletes a snapshot calls `complete_ready`, which completes, in the same transaction, every
snapshot whose turn has come, on the volume and then on every clone below it (deleted
clones included: their snapshots survive them).

Cost: these rules read only pending snapshots (`pending_snapshots`, a partial index
holds them; few at any time, the pending cap bounds them), never the completed ones,
so they cost the same at 10 or 4,000 snapshots on a volume.
"""

from __future__ import annotations

from blockstore.errors import NotEarliestOutstanding, SnapshotAlreadyComplete
from manifest.models import Snapshot, SnapshotMode, SnapshotState
from manifest.store import ManifestTx


async def require_earliest_outstanding(tx: ManifestTx, snapshot: Snapshot) -> None:
    """Raise unless `snapshot` is pending and no earlier UPLOAD snapshot of its volume is.

    An earlier point-in-time snapshot that is pending only waits (for an UPLOAD one ahead
    of it, which this check meets first, or for a clone's source): it receives nothing,
    so it holds no one back from uploading.
    """
    if snapshot.completed:
        raise SnapshotAlreadyComplete(f"snapshot {snapshot.snapshot_id} is already complete",
                                      snapshot_id=snapshot.snapshot_id)
    for other in await tx.pending_snapshots(snapshot.vid):
        if other.version >= snapshot.version:
            break
        if other.mode is SnapshotMode.UPLOAD:
            raise NotEarliestOutstanding(
                f"snapshot {snapshot.snapshot_id} waits behind pending snapshot "
                f"{other.snapshot_id} of volume {snapshot.volume_id}",
                snapshot_id=snapshot.snapshot_id, earlier_snapshot_id=other.snapshot_id)


async def lineage_settled(tx: ManifestTx, vid: int) -> bool:
    """True when no source along volume `vid`'s clone chain can change any more."""
    volume = await tx.get_volume_by_vid(vid)
    while volume is not None and volume.source_snapshot_id:
        source = await tx.get_snapshot_any(volume.source_snapshot_id)
        if source is None:
            return True
        pending = await tx.pending_snapshots(source.vid)
        if pending and pending[0].version <= source.version:
            return False
        volume = await tx.get_volume_by_vid(source.vid)
    return True


async def completes_at_once(tx: ManifestTx, vid: int) -> bool:
    """Would a point-in-time snapshot of volume `vid` taken now complete at once?"""
    return not await tx.pending_snapshots(vid) and await lineage_settled(tx, vid)


async def complete_ready(tx: ManifestTx, vid: int, now_us: int,
                         changed: bool = False) -> list[Snapshot]:
    """Complete every snapshot of volume `vid` whose turn has come, then those of its
    clones, transitively. Returns the ones of `vid`. `changed`: the caller deleted a
    pending snapshot of `vid`, which may settle its clones' lineage."""
    done = await _complete_own(tx, vid, now_us)
    if done or changed:
        seen, queue = {vid}, [vid]
        while queue:
            for clone_vid in await tx.clone_vids(queue.pop(0)):
                if clone_vid not in seen:
                    seen.add(clone_vid)
                    await _complete_own(tx, clone_vid, now_us)
                    queue.append(clone_vid)
    return done


async def _complete_own(tx: ManifestTx, vid: int, now_us: int) -> list[Snapshot]:
    """Complete, in version order, the pending snapshots of one volume that may."""
    pending = await tx.pending_snapshots(vid)
    if not pending or not await lineage_settled(tx, vid):
        return []
    done = []
    for snap in pending:
        if snap.mode is SnapshotMode.UPLOAD and snap.progress < 1.0:
            break
        snap = snap.replace(state=SnapshotState.COMPLETED, progress=1.0, completed_at=now_us)
        await tx.update_snapshot(snap)
        done.append(snap)
    return done
