"""One UploadBlocks stream carries at most `max_blocks_per_stream` blocks (32,768 by
default): past it the stream is INVALID_ARGUMENT `STREAM_TOO_LONG` and writes nothing,
so a stream's memory (its rows until the commit) and its one commit transaction stay
bounded. Before the cap, one stream of 1,000,000 zero blocks took 106 s, +215 MB and a
1.8 s commit that blocked every other writer."""

from __future__ import annotations

import grpc
import pytest

from blockstore.v1 import data_plane_pb2 as dpb
from clients.transfer.tuning import MAX_BATCH_CHUNKS
from data_plane.config import DataPlaneConfig
from tests.hostile.hostile import failure
from tests.limits.conftest import CHUNK, Client, block, listing
from tests.serverproc import serve

CAP = DataPlaneConfig().max_blocks_per_stream


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("long")
    server = serve(data_dir)
    c = Client(server.address, data_dir)
    yield c
    c.close()
    server.stop()


def zero_stream(volume_id: str, count: int, announce: int = 0):
    yield dpb.UploadBlocksRequest(target=dpb.UploadTarget(volume_id=volume_id,
                                                          block_count=announce))
    for i in range(count):
        yield block(i * CHUNK, None, CHUNK)


def test_a_stream_longer_than_the_cap_is_refused_and_writes_nothing(client):
    vid = client.volume((CAP + 1) * CHUNK)
    with pytest.raises(grpc.RpcError) as caught:
        client.dp.UploadBlocks(zero_stream(vid, CAP + 1), timeout=120)
    assert failure(caught.value) == ("INVALID_ARGUMENT", "STREAM_TOO_LONG")
    assert str(CAP) in caught.value.details() and vid in caught.value.details()
    assert listing(client.dp, volume_id=vid) == []
    reply = client.dp.UploadBlocks(zero_stream(vid, CAP), timeout=120)
    assert reply.blocks_written == CAP


def test_an_announced_count_over_the_cap_is_refused_before_any_block(client):
    vid = client.volume(1 << 20)
    with pytest.raises(grpc.RpcError) as caught:
        client.dp.UploadBlocks(zero_stream(vid, 1, announce=CAP + 1))
    assert failure(caught.value) == ("INVALID_ARGUMENT", "STREAM_TOO_LONG")


def test_our_transfer_client_streams_stay_under_the_cap():
    assert MAX_BATCH_CHUNKS <= CAP, "clients/transfer would send streams the server refuses"
