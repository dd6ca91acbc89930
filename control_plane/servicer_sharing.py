"""The snapshot-sharing RPCs of `ControlPlaneService` (mixed into ControlPlaneServicer).

Owns ShareSnapshot, UnshareSnapshot, ListSnapshotShares and the `SnapshotShare` message.
Rule: as every servicer method, validate, call the domain (control_plane/sharing.py
decides who may share what), convert.
"""

from __future__ import annotations

from blockstore.caller import current_account
from blockstore.v1 import control_plane_pb2 as cp
from control_plane.convert import timestamp
from control_plane.sharing import Sharing
from manifest import Share


def share_pb(share: Share) -> cp.SnapshotShare:
    return cp.SnapshotShare(account_id=share.account_id, allow_export=share.allow_export,
                            created_at=timestamp(share.created_at))


class SharingRpcs:
    sharing: Sharing

    async def ShareSnapshot(self, request, context):
        share = await self.sharing.share(current_account(), request.snapshot_id,
                                         request.account_id, request.allow_export)
        return cp.ShareSnapshotResponse(share=share_pb(share))

    async def UnshareSnapshot(self, request, context):
        await self.sharing.unshare(current_account(), request.snapshot_id, request.account_id)
        return cp.UnshareSnapshotResponse()

    async def ListSnapshotShares(self, request, context):
        shares = await self.sharing.shares(current_account(), request.snapshot_id)
        return cp.ListSnapshotSharesResponse(shares=[share_pb(s) for s in shares])
