"""The free-space reserve at the gRPC edge (services/space.py): while the reserve is not
free, the calls that add data are refused as RESOURCE_EXHAUSTED STORAGE_FULL before they
run, and reads and deletes (the way out) go on. A real server whose `--min-free` no disk
can meet, over real gRPC."""

from __future__ import annotations

import grpc
import pytest

from blockstore.v1 import control_plane_pb2 as cpb
from tests.hostile.hostile import failure
from tests.limits.conftest import CHUNK, Client
from tests.serverproc import serve


def test_writes_are_refused_as_storage_full_while_reads_and_deletes_go_on(tmp_path):
    roomy = serve(tmp_path)
    client = Client(roomy.address, tmp_path)
    vol = client.volume()
    client.close()
    assert roomy.stop() == 0
    full = serve(tmp_path, "--min-free", "1P")
    client = Client(full.address, token=client.token)
    try:
        for call, request in [(client.cp.CreateVolume, cpb.CreateVolumeRequest(
                                   size_bytes=1 << 20, chunk_size=CHUNK)),
                              (client.cp.CreateSnapshot, cpb.CreateSnapshotRequest(
                                   volume_id=vol))]:
            with pytest.raises(grpc.RpcError) as refused:
                call(request)
            assert failure(refused.value) == ("RESOURCE_EXHAUSTED", "STORAGE_FULL")
            assert str(tmp_path) not in refused.value.details(), "no server path"
        got = client.cp.GetVolume(cpb.GetVolumeRequest(volume_id=vol)).volume
        assert got.volume_id == vol, "reads are never refused"
        client.cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=vol))   # frees space
    finally:
        client.close()
        assert full.stop() == 0
