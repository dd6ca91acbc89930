"""Snapshot sharing: the owner lets other accounts use a COMPLETED snapshot.

Rules kept here (the reading side is manifest/lookups.py and manifest/export.py):
- only the owner shares, unshares or lists shares (a grantee: PERMISSION_DENIED NOT_OWNER);
- only a COMPLETED snapshot is shared: a grantee never sees data that still changes;
- the grantee is an existing account other than the owner;
- `allow_export` can not grant more than the owner has: data the owner may not export
  itself (a clone of something shared with it without export) is never shared with it.
Unsharing stops new clones and read-outs at once; volumes cloned before keep working
and keep the snapshot from being deleted (`SNAPSHOT_HAS_DEPENDENT_VOLUMES`).
"""

from __future__ import annotations

from blockstore.errors import (AccountNotFound, ExportNotAllowed, InvalidArgument,
                               SnapshotNotComplete)
from control_plane.config import ControlPlaneConfig
from manifest import ManifestStore, Share
from manifest.lookups import require_snapshot


class Sharing:
    def __init__(self, store: ManifestStore, config: ControlPlaneConfig) -> None:
        self.store, self.config = store, config

    async def share(self, account_id: str, snapshot_id: str, grantee: str,
                    allow_export: bool) -> Share:
        async with self.store.write() as tx:
            snap = await require_snapshot(tx, account_id, snapshot_id)
            if grantee == account_id:
                raise InvalidArgument(f"snapshot {snapshot_id} already belongs to account "
                                      f"{grantee}; share it with another account")
            if not grantee or await tx.get_account(grantee) is None:
                raise AccountNotFound(f"account {grantee!r} not found", account_id=grantee)
            if not snap.completed:
                raise SnapshotNotComplete(f"snapshot {snapshot_id} is still pending; only a "
                                          "completed snapshot can be shared",
                                          snapshot_id=snapshot_id)
            volume = await tx.get_volume_by_vid(snap.vid)
            if allow_export and volume is not None and volume.no_export:
                raise ExportNotAllowed(f"snapshot {snapshot_id} holds data shared with this "
                                       "account without export; it can not be shared with "
                                       "export", snapshot_id=snapshot_id)
            share = Share(grantee, allow_export, self.config.clock.now_us())
            await tx.put_share(snap.sid, share)
            return share

    async def unshare(self, account_id: str, snapshot_id: str, grantee: str) -> None:
        async with self.store.write() as tx:
            snap = await require_snapshot(tx, account_id, snapshot_id)
            await tx.delete_share(snap.sid, grantee)

    async def shares(self, account_id: str, snapshot_id: str) -> list[Share]:
        async with self.store.read() as tx:
            snap = await require_snapshot(tx, account_id, snapshot_id)
            return await tx.list_shares(snap.sid)
