"""The library's data-plane wrappers and sync facade against a real `blockstore serve`."""

import blake3
import pytest

from blockstore.v1 import data_plane_pb2 as dp
from clients import AsyncClient, Client, NotFound, Unimplemented, volume_target

CHUNK = 64 << 10


def block(offset: int, data: bytes) -> dp.UploadBlock:
    return dp.UploadBlock(offset=offset, length=len(data), data=data,
                          checksum=blake3.blake3(data).digest())


@pytest.fixture
async def client(server, account):
    async with AsyncClient(server.address, account["token"]) as c:
        yield c


async def test_upload_list_download_and_diff_round_trip(client):
    vol, _ = await client.create_volume(size_bytes=1 << 20, chunk_size=CHUNK)
    a, b = b"a" * CHUNK, b"b" * CHUNK
    resp = await client.upload_blocks(volume_target(vol.volume_id),
                                      [block(0, a), block(2 * CHUNK, b)])
    assert resp.blocks_written == 2
    assert resp.tokens == [blake3.blake3(a).digest(), blake3.blake3(b).digest()]

    listed = [e async for e in client.list_blocks(volume_id=vol.volume_id, page_size=1)]
    assert [e.offset for e in listed] == [0, 2 * CHUNK]  # holes absent, paging followed

    got = [blk async for blk in client.download_blocks(volume_id=vol.volume_id,
                                                       ranges=[(0, 3 * CHUNK)])]
    assert [(g.offset, g.zero) for g in got] == [(0, False), (CHUNK, True), (2 * CHUNK, False)]
    assert got[0].data == a and got[2].data == b

    missing = await client.find_missing_chunks([resp.tokens[0], b"\x00" * 32])
    assert missing == [b"\x00" * 32]

    snap = await client.create_snapshot(vol.volume_id)
    changes = [c async for c in client.list_changed_blocks(snap.snapshot_id)]
    assert [c.offset for c in changes] == [0, 2 * CHUNK]


async def test_stream_errors_are_typed(client):
    with pytest.raises((NotFound, Unimplemented)) as info:
        await client.upload_blocks(volume_target("vol-missing"), [block(0, b"x" * CHUNK)])
    if isinstance(info.value, NotFound):
        assert info.value.reason == "INVALID_VOLUME_ID"


def test_sync_client_against_real_server(server, account):
    with Client(server.address, account["token"]) as c:
        vol, initial = c.create_volume(size_bytes=4 << 20)
        snaps = [c.create_snapshot(vol.volume_id, description=str(i)) for i in range(3)]
        listed = list(c.list_snapshots(vol.volume_id, page_size=2))
        assert sorted(s.snapshot_id for s in listed) == sorted(
            [initial] + [s.snapshot_id for s in snaps])
        assert [s.version for s in snaps] == [2, 3, 4], "after the initial snapshot's 1"
