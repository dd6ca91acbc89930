"""A FLUSH with more dirty chunks than one UploadBlocks stream may carry (the service's
cap, `max_blocks_per_stream`) is committed in several streams and succeeds. Before, the
gateway sent every dirty chunk in one stream: after a TRIM of a large volume the FLUSH
was INVALID_ARGUMENT STREAM_TOO_LONG every time, and since a failed FLUSH keeps its dirty
data, the disk could never flush again."""

from __future__ import annotations

import asyncio

import blake3
import pytest

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import data_plane_pb2 as dp
from clients.aio import AsyncClient
from clients.data import MAX_STREAM_BLOCKS, volume_target
from clients.gateway import nbdproto as p
from clients.gateway.remote import Layout, RemoteVolume
from data_plane.config import DataPlaneConfig
from tests.gateway.conftest import CHUNK, create_volume
from tests.gateway.rawnbd import RawNbd

CAP = DataPlaneConfig().max_blocks_per_stream
CHUNKS = CAP + 1024                 # more chunks than one stream may carry
SIZE = CHUNKS * CHUNK               # 2112 MiB at 64 KiB chunks
FILL = b"\x5a" * CHUNK


def client(env: dict) -> AsyncClient:
    return AsyncClient(env["BLOCKSTORE_ADDRESS"], env["BLOCKSTORE_TOKEN"], timeout=120)


async def _fill(env: dict, volume: str) -> None:
    """Every chunk holds FILL: one chunk's data, then references to its token (cheap)."""
    token = blake3.blake3(FILL).digest()
    async with client(env) as c:
        for first in range(0, CHUNKS, CAP):
            blocks = [dp.UploadBlock(offset=i * CHUNK, length=CHUNK, checksum=token,
                                     **({"data": FILL, "compression": pb.COMPRESSION_NONE}
                                        if i == 0 else {}))
                      for i in range(first, min(first + CAP, CHUNKS))]
            await c.upload_blocks(volume_target(volume), blocks)


async def _non_zero(env: dict, volume: str) -> dict[int, bytes]:
    """Chunk index -> bytes of every chunk that is not all zeros (DownloadBlocks)."""
    out = {}
    async with client(env) as c:
        async for block in c.download_blocks(volume_id=volume, ranges=[(0, SIZE)]):
            if not block.zero:
                assert block.compression == pb.COMPRESSION_NONE
                assert blake3.blake3(block.data).digest() == block.checksum
                out[block.offset // CHUNK] = bytes(block.data)
    return out


@pytest.fixture
def big_volume(env):
    volume = create_volume(env, f"{SIZE >> 20}M")
    asyncio.run(_fill(env, volume))
    return volume


def test_the_client_cap_is_the_services_default():
    assert MAX_STREAM_BLOCKS == CAP


def test_a_flush_after_trimming_more_chunks_than_a_stream_holds_succeeds(env, gateways,
                                                                         big_volume):
    gw = gateways(env, big_volume)
    c = RawNbd(*gw.host_port, timeout=300)
    assert c.go() == SIZE
    assert c.call(p.CMD_TRIM, 0, SIZE)[0] == 0
    writes = {0: b"\x01" * CHUNK, 1000: b"\x02" * CHUNK, CHUNKS - 1: b"\x03" * CHUNK}
    for index, data in writes.items():
        assert c.call(p.CMD_WRITE, index * CHUNK, CHUNK, data)[0] == 0
    assert c.call(p.CMD_WRITE, (CAP + 7) * CHUNK + 100, 5, b"hello")[0] == 0
    assert c.call(p.CMD_FLUSH)[0] == 0, "".join(gw.output)
    assert c.call(p.CMD_READ, (CAP + 7) * CHUNK + 98, 9) == (0, b"\0\0hello\0\0")
    c.close()
    partial = bytearray(CHUNK)
    partial[100:105] = b"hello"
    assert asyncio.run(_non_zero(env, big_volume)) == {**writes, CAP + 7: bytes(partial)}


def test_a_commit_refused_as_too_long_is_halved_and_retried(env, big_volume):
    """A service configured below our cap answers STREAM_TOO_LONG (here: a client cap of
    twice the service's); the commit halves the refused stream, retries, and keeps the
    smaller size. Each stream is announced to `before` first (the crash-replay basis)."""

    async def run() -> RemoteVolume:
        async with client(env) as c:
            remote = RemoteVolume(c, big_volume, Layout(SIZE, CHUNK), stream_cap=2 * CAP)
            await remote.load()
            seen = []

            async def before(digest: int) -> None:
                seen.append(digest)

            tokens = await remote.commit({i: None for i in range(CHUNKS)}, before=before)
            assert len(tokens) == CHUNKS and not any(tokens.values())
            assert seen[-1] == remote.digest == 0      # all zeros: the empty digest
            assert len(seen) == 3       # the refused stream, then two halves
            return remote

    remote = asyncio.run(run())
    assert remote.stream_cap == CHUNKS // 2
    assert asyncio.run(_non_zero(env, big_volume)) == {}
