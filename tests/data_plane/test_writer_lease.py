"""Writer leases fence the data plane: while a gateway holds a volume's lease, only
upload streams naming that holder commit; the rest are VOLUME_IN_USE and write nothing."""

from __future__ import annotations

import grpc

from blockstore.v1 import control_plane_pb2 as cpb
from tests.data_plane.helpers import new_volume, read, stream
from tests.rpcerrors import expect_error

FAILED = grpc.StatusCode.FAILED_PRECONDITION


def as_holder(msgs, holder: str):
    msgs[0].target.lease_holder_id = holder
    return msgs


async def test_only_the_lease_holder_writes_a_leased_volume(cp, dp):
    vol = await new_volume(cp)
    await cp.AcquireVolumeLease(cpb.AcquireVolumeLeaseRequest(
        volume_id=vol.volume_id, holder_id="gw-a", ttl_seconds=600))
    mine, theirs = b"\x01" * vol.chunk, b"\x02" * vol.chunk
    await dp.UploadBlocks(iter(as_holder(stream(vol, [(0, mine)]), "gw-a")))
    for holder in ("", "gw-b"):
        await expect_error(dp.UploadBlocks(iter(as_holder(stream(vol, [(0, theirs)]), holder))),
                           FAILED, "VOLUME_IN_USE", names=vol.volume_id)
    assert await read(dp, volume_id=vol.volume_id, length=vol.chunk) == mine, \
        "a refused stream wrote nothing"
    await cp.ReleaseVolumeLease(cpb.ReleaseVolumeLeaseRequest(volume_id=vol.volume_id,
                                                              holder_id="gw-a"))
    await dp.UploadBlocks(iter(stream(vol, [(0, theirs)])))
    assert await read(dp, volume_id=vol.volume_id, length=vol.chunk) == theirs


async def test_a_stream_opened_before_the_lease_is_refused_at_commit(cp, dp):
    vol = await new_volume(cp)
    msgs = stream(vol, [(0, b"\x03" * vol.chunk)])
    call = dp.UploadBlocks()
    await call.write(msgs[0])
    await call.write(msgs[1])
    await cp.AcquireVolumeLease(cpb.AcquireVolumeLeaseRequest(
        volume_id=vol.volume_id, holder_id="gw-a", ttl_seconds=600))
    await call.done_writing()
    await expect_error(call, FAILED, "VOLUME_IN_USE", names=vol.volume_id)
    assert await read(dp, volume_id=vol.volume_id, length=vol.chunk) == bytes(vol.chunk)
