"""The data-plane bounds that had no flag: `--upload-memory`, `--max-blocks-per-stream`,
`--max-download-chunks` (docs/limits.md). Each reaches the running server: the two caps
refuse exactly one past their value, the budget is the data plane's, and a bad value
stops the server with one line naming the flag."""

from __future__ import annotations

import os

import grpc
import pytest

from blockstore.v1 import data_plane_pb2 as dpb
from services.cli import _parse, _server_config
from services.server import data_plane_config
from tests.hostile.hostile import failure
from tests.limits.conftest import CHUNK, Client, block, listing, target
from tests.serverproc import blockstore_cmd, serve


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("flags")
    server = serve(data_dir, "--max-blocks-per-stream", "4", "--max-download-chunks", "8",
                   "--upload-memory", "64K")
    c = Client(server.address, data_dir)
    yield c
    c.close()
    server.stop()


def stream(volume_id: str, datas: list[bytes]):
    yield target(volume_id)
    for i, data in enumerate(datas):
        yield block(i * CHUNK, data, CHUNK)


def test_max_blocks_per_stream_flag_caps_a_stream(client):
    vid = client.volume(16 * CHUNK)
    with pytest.raises(grpc.RpcError) as caught:
        client.dp.UploadBlocks(stream(vid, [None] * 5))
    assert failure(caught.value) == ("INVALID_ARGUMENT", "STREAM_TOO_LONG")
    assert "at most 4" in caught.value.details()
    assert listing(client.dp, volume_id=vid) == [], "nothing of the refused stream is written"
    assert client.dp.UploadBlocks(stream(vid, [None] * 4)).blocks_written == 4


def test_max_download_chunks_flag_caps_a_download(client):
    vid = client.volume(16 * CHUNK)
    with pytest.raises(grpc.RpcError) as caught:
        list(client.dp.DownloadBlocks(dpb.DownloadBlocksRequest(
            volume_id=vid, ranges=[dpb.ByteRange(offset=0, length=9 * CHUNK)])))
    assert failure(caught.value) == ("INVALID_ARGUMENT", "DOWNLOAD_TOO_LARGE")
    assert "at most 8" in caught.value.details()
    got = list(client.dp.DownloadBlocks(dpb.DownloadBlocksRequest(
        volume_id=vid, ranges=[dpb.ByteRange(offset=0, length=8 * CHUNK)])))
    assert sum(m.length for m in got) == 8 * CHUNK


def test_an_upload_budget_smaller_than_one_block_still_carries_every_block(client):
    """Each raw block charges twice its size, beyond the 64 KiB budget: it takes the
    whole budget, so blocks go one at a time, and all of them arrive."""
    vid = client.volume(16 * CHUNK)
    datas = [os.urandom(CHUNK) for _ in range(4)]
    assert client.dp.UploadBlocks(stream(vid, datas)).blocks_written == 4
    got = client.dp.DownloadBlocks(dpb.DownloadBlocksRequest(
        volume_id=vid, ranges=[dpb.ByteRange(offset=0, length=4 * CHUNK)]))
    assert b"".join(m.data for m in got) == b"".join(datas)


def test_the_flags_reach_the_data_plane_config(tmp_path):
    args = _parse(["serve", "--data-dir", str(tmp_path), "--upload-memory", "3M",
                   "--max-blocks-per-stream", "100", "--max-download-chunks", "200"])
    config = data_plane_config(_server_config(args))
    assert (config.upload_memory, config.max_blocks_per_stream,
            config.max_download_chunks) == (3 << 20, 100, 200)


@pytest.mark.parametrize("flag", ["--upload-memory", "--max-blocks-per-stream",
                                  "--max-download-chunks"])
def test_a_bound_under_one_stops_the_server_with_one_line(tmp_path, flag):
    done = blockstore_cmd("serve", "--data-dir", str(tmp_path), "--listen", "127.0.0.1:0",
                          flag, "0", check=False, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"{flag} must be at least 1" in done.stderr and "Traceback" not in done.stderr
