"""Export control: may this account read this data out of the service?

Rule: a snapshot shared without `allow_export` may be used inside the service (cloned,
written over, snapshotted) but its data never leaves it through the grantee. A volume
cloned from such a snapshot, and any volume cloned below that one, carries `no_export`
from its creation on; its snapshots inherit it. Read-outs (DownloadBlocks, ListBlocks,
ListChangedBlocks) of such data answer PERMISSION_DENIED EXPORT_NOT_ALLOWED.
"""

from __future__ import annotations

from blockstore.errors import ExportNotAllowed
from manifest.models import Share, Snapshot, Volume
from manifest.store import ManifestTx


def clone_no_export(source_volume: Volume | None, share: Share | None) -> bool:
    """A clone may not be exported if its source may not be, by the cloning account."""
    inherited = source_volume is not None and source_volume.no_export
    return inherited or (share is not None and not share.allow_export)


def require_volume_export(volume: Volume) -> None:
    if volume.no_export:
        raise ExportNotAllowed(f"volume {volume.volume_id} holds data shared without export; "
                               "it can be used inside the service, not read out",
                               volume_id=volume.volume_id)


async def require_snapshot_export(tx: ManifestTx, snap: Snapshot, share: Share | None) -> None:
    volume = await tx.get_volume_by_vid(snap.vid)
    if (share is not None and not share.allow_export) or (volume and volume.no_export):
        raise ExportNotAllowed(f"snapshot {snap.snapshot_id} is shared without export; it "
                               "can be used inside the service, not read out",
                               snapshot_id=snap.snapshot_id)
