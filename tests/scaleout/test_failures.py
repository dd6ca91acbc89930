"""Failure behaviour of the scale-out stores: a PostgreSQL restart in the middle of an
upload fails that stream with UNAVAILABLE and a RetryInfo, commits none of it, and the
retry succeeds; an unreachable S3 endpoint turns health NOT_SERVING and calls into
UNAVAILABLE, loses nothing acknowledged, and both come back with the store."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from blockstore.urls import file_url
from blockstore.v1 import control_plane_pb2_grpc, data_plane_pb2_grpc
from tests.backends import fresh_database, template_cluster
from tests.conftest import AuthedStub
from tests.data_plane.helpers import (CHUNK, MIB, block_msg, list_blocks, new_volume, rand,
                                      read, target_msg, upload)
from tests.observe import until_async
from tests.rpcerrors import error_info, retry_delay
from tests.s3server import start_seaweedfs
from tests.serverproc import ServerProcess, create_account

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _health(channel) -> int:
    try:
        return (await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5)).status
    except grpc.aio.AioRpcError:
        return -1


def _stubs(channel, token):
    return (AuthedStub(control_plane_pb2_grpc.ControlPlaneServiceStub(channel), token),
            AuthedStub(data_plane_pb2_grpc.DataPlaneServiceStub(channel), token))


@pytest.fixture
def own_pg():
    """A PostgreSQL cluster of this test's own: it gets restarted."""
    with template_cluster() as cluster:
        yield cluster


async def test_postgresql_restart_mid_upload_is_unavailable_then_the_retry_commits(
        own_pg, tmp_path):
    db = fresh_database(own_pg)
    server = ServerProcess(["serve", "--data-dir", str(tmp_path), "--listen", "127.0.0.1:0",
                            "--db", db, "--chunks", file_url(tmp_path / "chunks")]).start()
    token = create_account("restart", db=db)["token"]
    blocks = [(i * CHUNK, rand(CHUNK)) for i in range(4)]
    try:
        async with grpc.aio.insecure_channel(server.address) as channel:
            cp, dp = _stubs(channel, token)
            vol = await new_volume(cp, size=MIB)
            stopping: list[asyncio.Task] = []

            async def requests():
                yield target_msg(vol.volume_id)
                for n, (offset, data) in enumerate(blocks):
                    if n == 2:                          # mid-stream: the database goes down
                        stopping.append(asyncio.create_task(
                            asyncio.to_thread(own_pg.stop, "fast")))
                        # shielded: the stream may fail (and this generator be closed)
                        # while the stop is still under way
                        await asyncio.shield(stopping[0])
                    yield block_msg(offset, data, CHUNK)
            # The database stays down until the stream has its answer: a pool that
            # reconnected before the commit would (rightly) let the stream commit, which
            # made this test's premise a race when the restart was quick.
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await dp.UploadBlocks(requests())
            assert stopping, "the stream failed only once the database went down"
            await stopping[0]
            await asyncio.to_thread(own_pg.start)       # the database is back
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE, \
                err.value.details() + "".join(server.output[-40:])
            assert error_info(err.value).reason == "MANIFEST_UNAVAILABLE"
            assert retry_delay(err.value) is not None, "it carries a RetryInfo"

            async def retried():
                try:
                    return await upload(dp, vol, blocks)
                except grpc.aio.AioRpcError as again:
                    assert again.code() == grpc.StatusCode.UNAVAILABLE, again.details()
            await until_async(retried, "a retry of the stream commits")
            assert await read(dp, volume_id=vol.volume_id, size=MIB) == bytes(vol.image)
            assert len(await list_blocks(dp, volume_id=vol.volume_id)) == len(blocks)
    finally:
        server.stop()


async def test_s3_unreachable_is_not_serving_and_unavailable_and_loses_nothing(
        pg_cluster, tmp_path):
    weed = start_seaweedfs()
    try:
        weed.make_bucket("down")
        db = fresh_database(pg_cluster)
        server = ServerProcess(["serve", "--data-dir", str(tmp_path), "--listen", "127.0.0.1:0",
                                "--db", db, "--chunks", weed.url("down")],
                               env=weed.env()).start()
        token = create_account("s3-down", db=db)["token"]
        try:
            async with grpc.aio.insecure_channel(server.address) as channel:
                cp, dp = _stubs(channel, token)
                vol = await new_volume(cp, size=MIB)
                acked = [(0, rand(CHUNK))]
                await upload(dp, vol, acked)
                assert await _health(channel) == SERVING

                weed.kill()
                await until_async(lambda: _is(channel, NOT_SERVING),
                                  "health turns NOT_SERVING while S3 is unreachable")
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await upload(dp, vol, [(CHUNK, rand(CHUNK))])
                assert err.value.code() == grpc.StatusCode.UNAVAILABLE, err.value.details()
                assert error_info(err.value).reason == "CHUNK_STORE_UNAVAILABLE"
                assert retry_delay(err.value) is not None

                weed.restart()
                await until_async(lambda: _is(channel, SERVING),
                                  "health is SERVING again once S3 answers")
                assert (await read(dp, volume_id=vol.volume_id, size=MIB))[:CHUNK] == \
                    acked[0][1], "the block acknowledged before the outage reads back"
        finally:
            server.stop()
    finally:
        weed.stop()


async def _is(channel, status: int) -> bool:
    return await _health(channel) == status
