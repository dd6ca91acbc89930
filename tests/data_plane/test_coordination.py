"""Issue 3 item 6: one control plane and two data-plane processes on one manifest (an
SQLite file or a PostgreSQL database) and one chunk directory work together: each volume
written through one data plane reads back byte-identical through the other, with
concurrent streams on both."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from blockstore.urls import file_url
from blockstore.v1 import control_plane_pb2_grpc, data_plane_pb2_grpc
from tests.backends import BACKENDS, db_url
from tests.conftest import AuthedStub
from tests.data_plane.helpers import CHUNK, MIB, list_blocks, new_volume, rand, read, upload
from tests.serverproc import ServerProcess, create_account


@pytest.fixture(scope="module", params=BACKENDS)
def cluster(tmp_path_factory, request):
    root = tmp_path_factory.mktemp("cluster")
    pg = request.getfixturevalue("pg_cluster") if request.param == "postgresql" else None
    db, chunks = db_url(request.param, root, pg), file_url(root / "chunks")
    listen = ["--listen", "127.0.0.1:0"]
    procs = []
    try:
        procs.append(ServerProcess(["control-plane", "--db", db, *listen]).start())
        for _ in range(2):
            procs.append(ServerProcess(["data-plane", "--db", db, "--chunks", chunks,
                                        *listen]).start())
        yield db, procs
    finally:
        for p in procs:
            p.stop()


async def test_two_data_planes_write_concurrently_and_read_each_other(cluster):
    db, (control, plane_a, plane_b) = cluster
    token = create_account("coordination", db=db)["token"]
    channels = [grpc.aio.insecure_channel(p.address) for p in (control, plane_a, plane_b)]
    try:
        cp = AuthedStub(control_plane_pb2_grpc.ControlPlaneServiceStub(channels[0]), token)
        dp_a, dp_b = (AuthedStub(data_plane_pb2_grpc.DataPlaneServiceStub(ch), token)
                      for ch in channels[1:])
        vol_a = await new_volume(cp, size=2 * MIB)
        vol_b = await new_volume(cp, size=2 * MIB + 512)
        shared = rand(CHUNK)          # the same chunk written through both planes at once

        def streams(vol):
            count = vol.size // CHUNK
            return [[(i * CHUNK, rand(CHUNK) if i % 5 else shared)
                     for i in range(s, count, 4)] for s in range(4)]

        uploads = [upload(dp_a, vol_a, s, zstd=bool(n % 2))
                   for n, s in enumerate(streams(vol_a))]
        uploads += [upload(dp_b, vol_b, s, zstd=bool(n % 2))
                    for n, s in enumerate(streams(vol_b))]
        uploads.append(upload(dp_b, vol_b, [(vol_b.size - 512, rand(512))]))
        replies = await asyncio.gather(*uploads)
        assert all(r.blocks_written for r in replies), "every stream was acknowledged"

        assert await read(dp_b, volume_id=vol_a.volume_id) == bytes(vol_a.image), \
            "a volume written through data plane A reads byte-identical through B"
        assert await read(dp_a, volume_id=vol_b.volume_id) == bytes(vol_b.image), \
            "a volume written through data plane B reads byte-identical through A"
        assert await list_blocks(dp_a, volume_id=vol_a.volume_id) == \
            await list_blocks(dp_b, volume_id=vol_a.volume_id), "both planes list the same rows"
    finally:
        for ch in channels:
            await ch.close()
