"""An S3 chunk store that stops answering is UNAVAILABLE CHUNK_STORE_UNAVAILABLE (with a
RetryInfo: the client retries), naming no server detail.

The S3 client's errors are not OSError, so before the fix an unreachable endpoint came
back as INTERNAL INTERNAL_ERROR ("internal error ..."), although the server knew exactly
what failed: its chunk store. Real SeaweedFS of our own, killed while a server uses it.
"""

from __future__ import annotations

import os

import grpc
import pytest

from blockstore.v1 import data_plane_pb2 as dpb
from tests.hostile.world import CHUNK, block, target
from tests.limits.conftest import Client
from tests.rpcerrors import error_info
from tests.s3server import start_seaweedfs
from tests.serverproc import ServerProcess


@pytest.fixture
def weed():
    server = start_seaweedfs()
    yield server
    server.stop()


def test_a_vanished_s3_endpoint_is_storage_io_error(weed, tmp_path):
    weed.make_bucket("outage")
    data = tmp_path / "data"
    proc = ServerProcess(["serve", "--data-dir", str(data), "--listen", "127.0.0.1:0",
                          "--chunks", weed.url("outage")], env=weed.env()).start()
    client = Client(proc.address, data)
    try:
        vid = client.volume()
        client.dp.UploadBlocks(iter([target(vid), block(0, os.urandom(CHUNK), CHUNK)]))
        weed.stop()
        with pytest.raises(grpc.RpcError) as caught:
            for _ in client.dp.DownloadBlocks(dpb.DownloadBlocksRequest(volume_id=vid),
                                              timeout=120):
                pass
        err = caught.value
        print(f"\n{err.code().name} {error_info(err).reason}: {err.details()}")
        assert (err.code(), error_info(err).reason) == (grpc.StatusCode.UNAVAILABLE,
                                                         "CHUNK_STORE_UNAVAILABLE"), \
            err.details()
        assert weed.endpoint.split("//")[1] not in err.details()
        assert "outage" not in err.details(), "the message names no bucket"
    finally:
        client.close()
        proc.stop()
