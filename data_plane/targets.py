"""Where an upload stream writes: a volume at its open version, or the earliest
outstanding UPLOAD snapshot at its version (invariant 5: any other data_version is
rejected). While a volume's writer lease is live (a gateway serves it), only streams
naming the holder may write it. Checked when the stream opens and again inside its
commit transaction."""

from __future__ import annotations

from dataclasses import dataclass

from blockstore.errors import (DataVersionConflict, FailedPrecondition, VolumeInUse,
                               VolumeNotFound)
from manifest import ManifestTx, SnapshotMode
from manifest.lookups import require_snapshot, require_volume
from manifest.ordering import require_earliest_outstanding


@dataclass(frozen=True)
class Target:
    account_id: str
    volume_id: str
    snapshot_id: str
    vid: int
    version: int
    size_bytes: int
    chunk_size: int
    lease_holder: str = ""

    @property
    def name(self) -> str:
        return f"snapshot {self.snapshot_id}" if self.snapshot_id else f"volume {self.volume_id}"


async def check_target(tx: ManifestTx, account_id: str, volume_id: str, snapshot_id: str,
                       data_version: int, lease_holder: str = "",
                       now_us: int | None = None) -> Target:
    """Resolve and validate the target; run again at commit inside the write transaction.
    With `now_us` (the upload paths), a volume with another holder's live writer lease
    is VOLUME_IN_USE; without it (snapshot-only callers, tools) the lease is not looked at."""
    if snapshot_id and not volume_id:
        snap = await require_snapshot(tx, account_id, snapshot_id)
        await require_earliest_outstanding(tx, snap)
        if snap.mode is not SnapshotMode.UPLOAD:
            raise FailedPrecondition(f"snapshot {snapshot_id} is not an UPLOAD snapshot; only "
                                     "UPLOAD snapshots receive blocks", snapshot_id=snapshot_id)
        if data_version != snap.version:
            raise DataVersionConflict(f"data_version {data_version} does not match snapshot "
                                      f"{snapshot_id}'s version {snap.version}",
                                      data_version=data_version, version=snap.version)
        return Target(account_id, snap.volume_id, snapshot_id, snap.vid, snap.version,
                      snap.size_bytes, snap.chunk_size)
    if not volume_id or snapshot_id:
        raise VolumeNotFound("the first message must name exactly one of target.volume_id "
                             "and target.snapshot_id", volume_id=volume_id)
    volume = await require_volume(tx, account_id, volume_id)
    if data_version not in (0, volume.open_version):
        raise DataVersionConflict(f"data_version {data_version} is not volume {volume_id}'s "
                                  f"open version {volume.open_version}",
                                  data_version=data_version, version=volume.open_version)
    lease = await tx.get_volume_lease(volume.vid) if now_us is not None else None
    if lease is not None and lease[1] > now_us and lease[0] != lease_holder:
        raise VolumeInUse(f"volume {volume_id} is being written through a gateway that holds "
                          "its writer lease; this stream does not name that holder",
                          volume_id=volume_id)
    return Target(account_id, volume_id, "", volume.vid, volume.open_version,
                  volume.size_bytes, volume.chunk_size, lease_holder)
