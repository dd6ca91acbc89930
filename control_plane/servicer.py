"""`ControlPlaneService` over gRPC: validate, call the domain, convert. Nothing else.

Owns the RPC methods of the control plane (leases and sharing are mixins in
servicer_leases.py and servicer_sharing.py). Rules: each method reads the caller from
`current_account()`, calls one domain object and converts with control_plane/convert.py;
domain errors pass through to the one error table (services/errors.py).
"""

from __future__ import annotations

from blockstore.caller import current_account
from blockstore.errors import InvalidArgument
from blockstore.v1 import control_plane_pb2 as cp
from blockstore.v1 import control_plane_pb2_grpc as cp_grpc
from control_plane.convert import MODE_FROM_PB, snapshot_pb, timestamp, volume_pb
from control_plane.data_planes import DataPlanes
from control_plane.leases import VolumeLeases
from control_plane.servicer_leases import VolumeLeaseRpcs
from control_plane.servicer_sharing import SharingRpcs
from control_plane.sharing import Sharing
from control_plane.snapshots import Snapshots
from control_plane.volumes import Volumes


class ControlPlaneServicer(VolumeLeaseRpcs, SharingRpcs, cp_grpc.ControlPlaneServiceServicer):
    def __init__(self, volumes: Volumes, snapshots: Snapshots, leases: VolumeLeases,
                 data_planes: DataPlanes, sharing: Sharing) -> None:
        self.volumes, self.snapshots, self.leases = volumes, snapshots, leases
        self.data_planes, self.sharing = data_planes, sharing

    async def CreateVolume(self, request, context):
        volume, initial = await self.volumes.create(
            current_account(), request.size_bytes, request.chunk_size,
            request.source_snapshot_id, request.idempotency_key, dict(request.labels))
        return cp.CreateVolumeResponse(volume=volume_pb(volume), initial_snapshot_id=initial)

    async def GetVolume(self, request, context):
        volume = await self.volumes.get(current_account(), request.volume_id)
        return cp.GetVolumeResponse(volume=volume_pb(volume))

    async def ListVolumes(self, request, context):
        found, token = await self.volumes.list(current_account(), request.page_size,
                                               request.page_token)
        return cp.ListVolumesResponse(volumes=[volume_pb(v) for v in found],
                                      next_page_token=token)

    async def DeleteVolume(self, request, context):
        await self.volumes.delete(current_account(), request.volume_id, request.allow_missing)
        return cp.DeleteVolumeResponse()

    async def CreateSnapshot(self, request, context):
        if request.mode not in MODE_FROM_PB:
            raise InvalidArgument(f"unknown snapshot mode {request.mode} for volume "
                                  f"{request.volume_id}")
        snap = await self.snapshots.create(
            current_account(), request.volume_id, MODE_FROM_PB[request.mode],
            [(ref.offset, ref.token) for ref in request.chunk_tokens],
            request.idempotency_key, request.description, dict(request.labels))
        return cp.CreateSnapshotResponse(snapshot=snapshot_pb(snap))

    async def GetSnapshot(self, request, context):
        snap = await self.snapshots.get(current_account(), request.snapshot_id)
        return cp.GetSnapshotResponse(snapshot=snapshot_pb(snap))

    async def ListSnapshots(self, request, context):
        found, token = await self.snapshots.list(current_account(), request.volume_id,
                                                 request.page_size, request.page_token,
                                                 request.shared_with_me)
        return cp.ListSnapshotsResponse(snapshots=[snapshot_pb(s) for s in found],
                                        next_page_token=token)

    async def ReportSnapshotProgress(self, request, context):
        snap = await self.snapshots.report_progress(current_account(), request.snapshot_id,
                                                    request.progress)
        return cp.ReportSnapshotProgressResponse(snapshot=snapshot_pb(snap))

    async def DeleteSnapshot(self, request, context):
        await self.snapshots.delete(current_account(), request.snapshot_id,
                                    request.allow_missing)
        return cp.DeleteSnapshotResponse()

    async def ListDataPlanes(self, request, context):
        # Any authenticated account may ask: the addresses are the service's, no account's.
        return cp.ListDataPlanesResponse(data_planes=[
            cp.DataPlaneEndpoint(address=e.address, heartbeat_age_ms=e.heartbeat_age_us // 1000,
                                 started_at=timestamp(e.started_at))
            for e in await self.data_planes.live()])
