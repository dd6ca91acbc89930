"""ControlPlaneService methods of `AsyncClient` (volumes, snapshots, progress).

Owns the client side of the control-plane RPCs and their idempotency keys. Rule: every
create carries an idempotency key (a random one if the caller gives none), so the retry
policy may resend it safely.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping

from blockstore.v1 import common_pb2, control_plane_pb2 as cp
from clients.errors import FailedPrecondition, NotFound

Volume, Snapshot = common_pb2.Volume, common_pb2.Snapshot


def new_idempotency_key() -> str:
    """One key per logical create, reused by its retries, so a retry never duplicates."""
    return f"py-{uuid.uuid4()}"


def snapshot_mode(mode: str | int) -> int:
    """'point_in_time' / 'point-in-time' / 'upload' (any case), or the enum value itself."""
    if isinstance(mode, int):
        return mode
    name = "SNAPSHOT_MODE_" + mode.strip().upper().replace("-", "_")
    try:
        return common_pb2.SnapshotMode.Value(name)
    except ValueError:
        raise ValueError(f"unknown snapshot mode {mode!r}: use point_in_time or upload") from None


class ControlPlaneMethods:
    """Mixed into AsyncClient, which provides `_cp` and `_unary`."""

    async def create_volume(self, size_bytes: int = 0, chunk_size: int = 0,
                            source_snapshot_id: str = "", idempotency_key: str = "",
                            labels: Mapping[str, str] | None = None) -> tuple[Volume, str]:
        """Returns (volume, initial_snapshot_id): the snapshot CreateVolume took of the new
        volume (version 1), the parent of the volume's next snapshot."""
        req = cp.CreateVolumeRequest(size_bytes=size_bytes, chunk_size=chunk_size,
                                     source_snapshot_id=source_snapshot_id,
                                     idempotency_key=idempotency_key or new_idempotency_key(),
                                     labels=dict(labels or {}))
        resp = await self._unary(self._cp.CreateVolume, req)
        return resp.volume, resp.initial_snapshot_id

    async def get_volume(self, volume_id: str) -> Volume:
        resp = await self._unary(self._cp.GetVolume, cp.GetVolumeRequest(volume_id=volume_id))
        return resp.volume

    async def list_volumes_page(self, page_size: int = 0,
                                page_token: str = "") -> tuple[list[Volume], str]:
        """One page: (volumes, next_page_token); an empty token means the last page."""
        req = cp.ListVolumesRequest(page_size=page_size, page_token=page_token)
        resp = await self._unary(self._cp.ListVolumes, req)
        return list(resp.volumes), resp.next_page_token

    async def list_volumes(self, page_size: int = 0) -> AsyncIterator[Volume]:
        """Every volume of the account, fetching pages as the caller iterates."""
        token = ""
        while True:
            volumes, token = await self.list_volumes_page(page_size, token)
            for volume in volumes:
                yield volume
            if not token:
                return

    async def delete_volume(self, volume_id: str, allow_missing: bool = False) -> None:
        req = cp.DeleteVolumeRequest(volume_id=volume_id, allow_missing=allow_missing)
        await self._delete(self._cp.DeleteVolume, req)

    async def create_snapshot(self, volume_id: str, mode: str | int = "point_in_time",
                              chunk_tokens: Iterable[tuple[int, bytes]] = (),
                              idempotency_key: str = "", description: str = "",
                              labels: Mapping[str, str] | None = None) -> Snapshot:
        """`chunk_tokens`: (offset, 32-byte token) pairs, UPLOAD mode only."""
        refs = [common_pb2.BlockRef(offset=o, token=t) for o, t in chunk_tokens]
        req = cp.CreateSnapshotRequest(volume_id=volume_id, mode=snapshot_mode(mode),
                                       chunk_tokens=refs, description=description,
                                       idempotency_key=idempotency_key or new_idempotency_key(),
                                       labels=dict(labels or {}))
        return (await self._unary(self._cp.CreateSnapshot, req)).snapshot

    async def get_snapshot(self, snapshot_id: str) -> Snapshot:
        req = cp.GetSnapshotRequest(snapshot_id=snapshot_id)
        return (await self._unary(self._cp.GetSnapshot, req)).snapshot

    async def list_snapshots_page(self, volume_id: str | None = None, page_size: int = 0,
                                  page_token: str = "") -> tuple[list[Snapshot], str]:
        req = cp.ListSnapshotsRequest(volume_id=volume_id or "", page_size=page_size,
                                      page_token=page_token)
        resp = await self._unary(self._cp.ListSnapshots, req)
        return list(resp.snapshots), resp.next_page_token

    async def list_snapshots(self, volume_id: str | None = None,
                             page_size: int = 0) -> AsyncIterator[Snapshot]:
        """Every snapshot of the account, or of one volume."""
        token = ""
        while True:
            snapshots, token = await self.list_snapshots_page(volume_id, page_size, token)
            for snapshot in snapshots:
                yield snapshot
            if not token:
                return

    async def report_snapshot_progress(self, snapshot_id: str, progress: float) -> Snapshot:
        """Reports 0.0 .. 1.0; 1.0 completes an UPLOAD snapshot."""
        req = cp.ReportSnapshotProgressRequest(snapshot_id=snapshot_id, progress=progress)
        try:
            return (await self._unary(self._cp.ReportSnapshotProgress, req)).snapshot
        except FailedPrecondition as err:
            # Our own earlier, unacknowledged attempt may have completed it.
            if err.attempts > 1 and progress >= 1.0 and err.reason == "SNAPSHOT_ALREADY_COMPLETE":
                return await self.get_snapshot(snapshot_id)
            raise

    async def delete_snapshot(self, snapshot_id: str, allow_missing: bool = False) -> None:
        req = cp.DeleteSnapshotRequest(snapshot_id=snapshot_id, allow_missing=allow_missing)
        await self._delete(self._cp.DeleteSnapshot, req)

    async def acquire_volume_lease(self, volume_id: str, holder_id: str,
                                   ttl_seconds: int = 0) -> cp.VolumeLease:
        """Takes the volume's writer lease (or extends our own); FailedPrecondition
        VOLUME_IN_USE while another holder's lease is live. Retrying is safe: the same
        holder taking its own lease again just extends it."""
        req = cp.AcquireVolumeLeaseRequest(volume_id=volume_id, holder_id=holder_id,
                                           ttl_seconds=ttl_seconds)
        return (await self._unary(self._cp.AcquireVolumeLease, req)).lease

    async def renew_volume_lease(self, volume_id: str, holder_id: str,
                                 ttl_seconds: int = 0) -> cp.VolumeLease:
        """Extends our lease; FailedPrecondition VOLUME_LEASE_NOT_HELD once it is lost."""
        req = cp.RenewVolumeLeaseRequest(volume_id=volume_id, holder_id=holder_id,
                                         ttl_seconds=ttl_seconds)
        return (await self._unary(self._cp.RenewVolumeLease, req)).lease

    async def release_volume_lease(self, volume_id: str, holder_id: str) -> None:
        req = cp.ReleaseVolumeLeaseRequest(volume_id=volume_id, holder_id=holder_id)
        await self._unary(self._cp.ReleaseVolumeLease, req)

    async def _delete(self, method, request) -> None:
        """A retried delete that finds nothing means an earlier attempt already deleted it."""
        try:
            await self._unary(method, request)
        except NotFound as err:
            if err.attempts == 1:
                raise
