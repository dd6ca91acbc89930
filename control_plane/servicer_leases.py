"""The volume-lease RPCs of `ControlPlaneService` (mixed into ControlPlaneServicer).

Owns AcquireVolumeLease, RenewVolumeLease, ReleaseVolumeLease and the `VolumeLease`
message. Rule: as every servicer method, validate, call the domain (control_plane/
leases.py decides who holds a volume), convert.
"""

from __future__ import annotations

from blockstore.caller import current_account
from blockstore.v1 import control_plane_pb2 as cp
from control_plane.convert import timestamp
from control_plane.leases import Lease, VolumeLeases


def lease_pb(lease: Lease) -> cp.VolumeLease:
    return cp.VolumeLease(volume_id=lease.volume_id, holder_id=lease.holder_id,
                          expires_at=timestamp(lease.expires_at))


class VolumeLeaseRpcs:
    leases: VolumeLeases

    async def AcquireVolumeLease(self, request, context):
        lease = await self.leases.acquire(current_account(), request.volume_id,
                                          request.holder_id, request.ttl_seconds)
        return cp.AcquireVolumeLeaseResponse(lease=lease_pb(lease))

    async def RenewVolumeLease(self, request, context):
        lease = await self.leases.renew(current_account(), request.volume_id,
                                        request.holder_id, request.ttl_seconds)
        return cp.RenewVolumeLeaseResponse(lease=lease_pb(lease))

    async def ReleaseVolumeLease(self, request, context):
        await self.leases.release(current_account(), request.volume_id, request.holder_id)
        return cp.ReleaseVolumeLeaseResponse()
