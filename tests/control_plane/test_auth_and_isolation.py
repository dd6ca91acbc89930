"""Bearer-token authentication on every RPC, health and reflection without a token, and
cross-account isolation: another account's objects are NOT_FOUND and absent from lists."""

from __future__ import annotations

import contextlib

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc, data_plane_pb2
from tests.conftest import metadata
from tests.control_plane.helpers import (UPLOAD, all_snapshot_ids, all_volume_ids,
                                         new_snapshot, new_volume)
from tests.rpcerrors import expect_error

UNAUTH = grpc.StatusCode.UNAUTHENTICATED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
EVERY_RPC = [
    ("CreateVolume", cpb.CreateVolumeRequest()),
    ("GetVolume", cpb.GetVolumeRequest(volume_id="vol-x")),
    ("ListVolumes", cpb.ListVolumesRequest()),
    ("DeleteVolume", cpb.DeleteVolumeRequest(volume_id="vol-x", allow_missing=True)),
    ("CreateSnapshot", cpb.CreateSnapshotRequest(volume_id="vol-x")),
    ("GetSnapshot", cpb.GetSnapshotRequest(snapshot_id="snap-x")),
    ("ListSnapshots", cpb.ListSnapshotsRequest()),
    ("ReportSnapshotProgress", cpb.ReportSnapshotProgressRequest(snapshot_id="snap-x")),
    ("DeleteSnapshot", cpb.DeleteSnapshotRequest(snapshot_id="snap-x", allow_missing=True)),
    ("AcquireVolumeLease", cpb.AcquireVolumeLeaseRequest(volume_id="vol-x", holder_id="gw")),
    ("RenewVolumeLease", cpb.RenewVolumeLeaseRequest(volume_id="vol-x", holder_id="gw")),
    ("ReleaseVolumeLease", cpb.ReleaseVolumeLeaseRequest(volume_id="vol-x", holder_id="gw")),
    ("ListDataPlanes", cpb.ListDataPlanesRequest()),
    ("ShareSnapshot", cpb.ShareSnapshotRequest(snapshot_id="snap-x", account_id="acct-x")),
    ("UnshareSnapshot", cpb.UnshareSnapshotRequest(snapshot_id="snap-x", account_id="acct-x")),
    ("ListSnapshotShares", cpb.ListSnapshotSharesRequest(snapshot_id="snap-x")),
]
BAD_METADATA = {
    "none": (),
    "wrong-token": metadata("bst_not-a-real-token"),
    "not-bearer": (("authorization", "Basic dXNlcjpwYXNz"),),
    "empty-bearer": (("authorization", "Bearer "),),
}


def test_every_control_plane_rpc_is_listed_here():
    service = cpb.DESCRIPTOR.services_by_name["ControlPlaneService"]
    assert {m.name for m in service.methods} == {name for name, _ in EVERY_RPC}, \
        "the auth test covers every ControlPlaneService RPC"


@pytest.mark.parametrize("bad", sorted(BAD_METADATA))
@pytest.mark.parametrize("rpc,request_", EVERY_RPC, ids=[n for n, _ in EVERY_RPC])
async def test_every_rpc_without_a_valid_token_is_unauthenticated(channel, rpc, request_, bad):
    stub = control_plane_pb2_grpc.ControlPlaneServiceStub(channel)
    await expect_error(getattr(stub, rpc)(request_, metadata=BAD_METADATA[bad]), UNAUTH,
                       "AUTHENTICATION_FAILED")


async def test_unauthenticated_create_creates_nothing(channel, cp):
    stub = control_plane_pb2_grpc.ControlPlaneServiceStub(channel)
    await expect_error(stub.CreateVolume(cpb.CreateVolumeRequest()), UNAUTH,
                       "AUTHENTICATION_FAILED")
    assert await all_volume_ids(cp) == [], "a rejected call has no effect"


async def test_health_check_needs_no_token_and_says_serving(channel):
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "blockstore.v1.ControlPlaneService", "blockstore.v1.DataPlaneService"):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, \
            f"health of {service or 'the server'} is SERVING without a token"


async def test_reflection_needs_no_token_and_lists_both_services(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    async for reply in stub.ServerReflectionInfo(iter([request])):
        names = {s.name for s in reply.list_services_response.service}
        break
    assert {"blockstore.v1.ControlPlaneService", "blockstore.v1.DataPlaneService",
            "grpc.health.v1.Health"} <= names, "reflection lists our services without a token"
    file_request = reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="blockstore.v1.ControlPlaneService")
    async for reply in stub.ServerReflectionInfo(iter([file_request])):
        assert reply.file_descriptor_response.file_descriptor_proto, \
            "reflection serves the control-plane proto descriptors"
        break


async def test_another_accounts_volume_is_not_found_and_absent_from_lists(cp, other_cp):
    volume = await new_volume(cp)
    vid = volume.volume_id
    assert await all_volume_ids(other_cp) == [], "another account lists none of my volumes"
    for call in (other_cp.GetVolume(cpb.GetVolumeRequest(volume_id=vid)),
                 other_cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=vid)),
                 other_cp.CreateSnapshot(cpb.CreateSnapshotRequest(volume_id=vid))):
        await expect_error(call, NOT_FOUND, "INVALID_VOLUME_ID", names=vid)
    await other_cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=vid, allow_missing=True))
    assert await all_volume_ids(cp) == [vid], "another account's delete leaves my volume alone"


async def test_another_accounts_snapshot_is_not_found_and_absent_from_lists(cp, other_cp):
    volume = await new_volume(cp)
    snap = await new_snapshot(cp, volume.volume_id, mode=UPLOAD)
    sid = snap.snapshot_id
    assert await all_snapshot_ids(other_cp) == [], "another account lists none of my snapshots"
    assert await all_snapshot_ids(other_cp, volume.volume_id) == [], \
        "filtering by my volume id shows another account nothing"
    for call in (other_cp.GetSnapshot(cpb.GetSnapshotRequest(snapshot_id=sid)),
                 other_cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=sid)),
                 other_cp.ReportSnapshotProgress(cpb.ReportSnapshotProgressRequest(
                     snapshot_id=sid, progress=1.0)),
                 other_cp.CreateVolume(cpb.CreateVolumeRequest(source_snapshot_id=sid))):
        await expect_error(call, NOT_FOUND, "INVALID_SNAPSHOT_ID", names=sid)
    await other_cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=sid,
                                                            allow_missing=True))
    assert sid in await all_snapshot_ids(cp), "another account's delete leaves it alone"


async def test_data_plane_also_requires_a_token(channel):
    from blockstore.v1 import data_plane_pb2_grpc

    stub = data_plane_pb2_grpc.DataPlaneServiceStub(channel)
    await expect_error(stub.FindMissingChunks(data_plane_pb2.FindMissingChunksRequest()),
                       UNAUTH, "AUTHENTICATION_FAILED")


class _NoAccounts:
    """A manifest that knows no account: every token is unknown."""

    @contextlib.asynccontextmanager
    async def read(self):
        class Tx:
            async def account_by_token_hash(self, token_hash):
                return None
        yield Tx()


async def test_unimplemented_sync_methods_still_require_a_token():
    """The interceptor fails closed: the generated base servicer's methods are sync and
    UNIMPLEMENTED, and without a token they too answer UNAUTHENTICATED."""
    from blockstore.v1 import data_plane_pb2_grpc
    from services.auth import AccountResolver, EdgeInterceptor

    server = grpc.aio.server(interceptors=[EdgeInterceptor(AccountResolver(_NoAccounts()))])
    data_plane_pb2_grpc.add_DataPlaneServiceServicer_to_server(
        data_plane_pb2_grpc.DataPlaneServiceServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = data_plane_pb2_grpc.DataPlaneServiceStub(channel)
            await expect_error(stub.FindMissingChunks(data_plane_pb2.FindMissingChunksRequest()),
                               UNAUTH, "AUTHENTICATION_FAILED")
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.FindMissingChunks(data_plane_pb2.FindMissingChunksRequest(),
                                             metadata=metadata("bst_x"))
            assert err.value.code() == UNAUTH, "a wrong token is UNAUTHENTICATED too"
    finally:
        await server.stop(None)
