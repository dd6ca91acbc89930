"""Snapshot sharing calls of the client library (mixed into AsyncClient, which provides
`_cp` and `_unary`). Every call here is safe to retry: sharing again sets the same
`allow_export`, unsharing twice does nothing."""

from __future__ import annotations

from typing import AsyncIterator

from blockstore.v1 import control_plane_pb2 as cp
from blockstore.v1.common_pb2 import Snapshot


class SharingMethods:
    async def share_snapshot(self, snapshot_id: str, account_id: str,
                             allow_export: bool = True) -> cp.SnapshotShare:
        """Let `account_id` use (and, with `allow_export`, read out) a completed snapshot."""
        req = cp.ShareSnapshotRequest(snapshot_id=snapshot_id, account_id=account_id,
                                      allow_export=allow_export)
        return (await self._unary(self._cp.ShareSnapshot, req)).share

    async def unshare_snapshot(self, snapshot_id: str, account_id: str) -> None:
        req = cp.UnshareSnapshotRequest(snapshot_id=snapshot_id, account_id=account_id)
        await self._unary(self._cp.UnshareSnapshot, req)

    async def list_snapshot_shares(self, snapshot_id: str) -> list[cp.SnapshotShare]:
        req = cp.ListSnapshotSharesRequest(snapshot_id=snapshot_id)
        return list((await self._unary(self._cp.ListSnapshotShares, req)).shares)

    async def list_shared_snapshots(self, page_size: int = 0) -> AsyncIterator[Snapshot]:
        """Every snapshot other accounts share with this one."""
        token = ""
        while True:
            req = cp.ListSnapshotsRequest(shared_with_me=True, page_size=page_size,
                                          page_token=token)
            resp = await self._unary(self._cp.ListSnapshots, req)
            for snapshot in resp.snapshots:
                yield snapshot
            token = resp.next_page_token
            if not token:
                return
