"""Taking a snapshot: freeze a volume's open version and open the next one.

Shared by `CreateSnapshot` and `CreateVolume` (whose initial snapshot is taken in the
volume's own transaction, so it is version 1 and the volume opens at 2). Rule kept: the
snapshot's version is the volume's open version at that moment, its parent is the
volume's previous live snapshot (or, for a clone's first one, the clone's source), and
`complete_ready` decides at once whether it may complete (manifest/ordering.py).
"""

from __future__ import annotations

from blockstore.clock import IdGenerator
from manifest import ManifestTx, Snapshot, SnapshotMode, SnapshotState, Volume
from manifest.ordering import complete_ready


async def take_snapshot(tx: ManifestTx, ids: IdGenerator, volume: Volume, mode: SnapshotMode,
                        rows: list[tuple[int, bytes]], description: str,
                        labels: dict[str, str], now: int) -> Snapshot:
    version = volume.open_version
    latest = await tx.latest_snapshot(volume.vid)
    parent = latest.snapshot_id if latest else volume.source_snapshot_id
    snap = Snapshot(0, ids.new("snap"), volume.account_id, volume.vid, volume.volume_id,
                    version, mode, SnapshotState.PENDING, 0.0, volume.size_bytes,
                    volume.chunk_size, parent, description, now, None, dict(labels))
    snap = await tx.insert_snapshot(snap)
    await tx.set_open_version(volume.vid, version + 1)
    if rows:
        await tx.upsert_blocks(volume.vid, version, rows)
    for done in await complete_ready(tx, volume.vid, now):
        if done.sid == snap.sid:
            snap = done
    return snap
