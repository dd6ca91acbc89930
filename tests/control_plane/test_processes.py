"""Process modes: `control-plane` and `data-plane` as two processes on one SQLite file,
each serving only its own service; `serve` exits 0 promptly on SIGTERM."""

from __future__ import annotations

import signal
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from blockstore.urls import file_url, sqlite_url
from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc, data_plane_pb2, data_plane_pb2_grpc
from tests.conftest import AuthedStub, metadata
from tests.serverproc import ServerProcess, create_account, create_account_cli, serve

SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    root = tmp_path_factory.mktemp("two-proc")
    db = sqlite_url(root / "manifest.db")
    control = ServerProcess(["control-plane", "--db", db, "--listen", "127.0.0.1:0"]).start()
    data = ServerProcess(["data-plane", "--db", db, "--chunks", file_url(root / "chunks"),
                          "--listen", "127.0.0.1:0"])
    try:
        data.start()
        yield control, data, db
    finally:
        assert data.stop() == 0, "data-plane exits 0 on SIGTERM:\n" + "".join(data.output)
        assert control.stop() == 0, "control-plane exits 0 on SIGTERM:\n" + \
            "".join(control.output)


async def test_control_plane_process_creates_volumes_in_the_shared_database(two_processes):
    control, _, db = two_processes
    account = create_account_cli("two-proc-cp", db=db)
    async with grpc.aio.insecure_channel(control.address) as channel:
        cp = AuthedStub(control_plane_pb2_grpc.ControlPlaneServiceStub(channel),
                        account["token"])
        volume = (await cp.CreateVolume(cpb.CreateVolumeRequest(size_bytes=4 << 20))).volume
        listed = await cp.ListVolumes(cpb.ListVolumesRequest())
    assert [v.volume_id for v in listed.volumes] == [volume.volume_id], \
        "an account made by `account create --db` works against the control-plane process"


async def _health(address: str, service: str = "") -> int:
    async with grpc.aio.insecure_channel(address) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service))
    return reply.status


async def test_both_processes_answer_health_serving(two_processes):
    control, data, _ = two_processes
    assert await _health(control.address) == SERVING, "control-plane process is SERVING"
    assert await _health(data.address) == SERVING, "data-plane process is SERVING"
    assert await _health(data.address, "blockstore.v1.DataPlaneService") == SERVING
    assert await _health(control.address, "blockstore.v1.ControlPlaneService") == SERVING


async def test_each_process_serves_only_its_own_service(two_processes):
    control, data, db = two_processes
    token = create_account("two-proc-split", db=db)["token"]
    async with grpc.aio.insecure_channel(control.address) as channel:
        stub = data_plane_pb2_grpc.DataPlaneServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.FindMissingChunks(data_plane_pb2.FindMissingChunksRequest(),
                                         metadata=metadata(token))
        assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED, \
            "the control-plane process does not serve DataPlaneService"
    async with grpc.aio.insecure_channel(data.address) as channel:
        stub = control_plane_pb2_grpc.ControlPlaneServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ListVolumes(cpb.ListVolumesRequest(), metadata=metadata(token))
        assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED, \
            "the data-plane process does not serve ControlPlaneService"


def test_serve_exits_0_promptly_on_sigterm(tmp_path):
    # With nothing in flight it must not wait out its grace period; the grace is long so
    # that the bound below is generous on a loaded machine and still proves it.
    proc = serve(tmp_path, "--grace", "120")
    started = time.monotonic()
    code = proc.stop(signal.SIGTERM, timeout=150)
    elapsed = time.monotonic() - started
    print(f"\nserve stopped {elapsed:.2f} s after SIGTERM")
    assert code == 0, "serve exits 0 on SIGTERM:\n" + "".join(proc.output)
    assert elapsed < 60, f"serve took {elapsed:.1f}s to stop on SIGTERM with no calls in flight"
