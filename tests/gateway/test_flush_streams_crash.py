"""A FLUSH committed in several UploadBlocks streams, cut short by a crash between two of
them: some chunks are committed, the rest only in the log. Restarting from the same
directory must accept the log (the volume's digest is one the basis allows), replay it
onto the partly committed state and converge to exactly what was written, every chunk
whole. The gateway's primary-mode pieces run in-process against a real server, with a
stream cap of 2 blocks so a handful of chunks needs several streams; the crash is the
second stream's call dying before it reaches the service (where a kill -9 between
streams leaves the directory), since a real kill cannot be aimed there."""

from __future__ import annotations

import asyncio

from clients.aio import AsyncClient
from clients.gateway.basis import Basis
from clients.gateway.cache import ChunkCache
from clients.gateway.disk import DiskError
from clients.gateway.primary import CachedVolume
from clients.gateway.remote import Layout, RemoteVolume
from clients.gateway.status import Stats
from clients.gateway.wal import WriteLog
from tests.gateway.conftest import CHUNK, create_volume

SIZE = 16 * CHUNK


class Crash(Exception):
    """The process dies here."""


async def _open(env: dict, volume: str, home) -> tuple[AsyncClient, CachedVolume, int]:
    client = AsyncClient(env["BLOCKSTORE_ADDRESS"], env["BLOCKSTORE_TOKEN"])
    remote = RemoteVolume(client, volume, Layout(SIZE, CHUNK), stream_cap=2)
    await remote.load()
    cache = ChunkCache(home / "chunks", 64 * CHUNK)
    cache.open()
    disk = CachedVolume(remote, cache, WriteLog(home / "log"), Stats())
    replayed = await disk.open(Basis(home / "basis"))
    return client, disk, replayed


async def _service(env: dict, volume: str) -> bytes:
    client = AsyncClient(env["BLOCKSTORE_ADDRESS"], env["BLOCKSTORE_TOKEN"])
    async with client:
        remote = RemoteVolume(client, volume, Layout(SIZE, CHUNK))
        await remote.load()
        got = await remote.fetch(list(range(16)))
    return b"".join(got.get(i, (b"", b""))[1] or bytes(CHUNK) for i in range(16))


def test_a_crash_between_the_streams_of_a_flush_replays_to_what_was_written(env, tmp_path):
    volume = create_volume(env, "1M")
    expected = bytearray(SIZE)

    async def first_life() -> None:
        client, disk, _ = await _open(env, volume, tmp_path)
        writes = [(0, b"\x11" * CHUNK), (10, b"ab"), (2 * CHUNK - 3, b"xyzxyz"),
                  (5 * CHUNK, b"\x22" * (3 * CHUNK)), (5 * CHUNK + 7, b"cd")]
        for offset, data in writes:
            await disk.write(offset, data)
            expected[offset:offset + len(data)] = data
        await disk.zero(6 * CHUNK + 1, 5)
        expected[6 * CHUNK + 1:6 * CHUNK + 6] = bytes(5)
        streams = []
        upload = client.upload_blocks

        async def dies_at_the_second_stream(target, blocks, **kw):
            streams.append(len(blocks))
            if len(streams) == 2:
                raise Crash()
            return await upload(target, blocks, **kw)

        client.upload_blocks = dies_at_the_second_stream
        try:
            await disk.flush()
        except DiskError as err:
            assert isinstance(err.__cause__, Crash)
        else:
            raise AssertionError("the flush did not reach its second stream")
        disk.log.close()
        await client.close()

    asyncio.run(first_life())
    partly = asyncio.run(_service(env, volume))
    assert partly[:2 * CHUNK] == expected[:2 * CHUNK]       # the first stream: chunks 0, 1
    assert partly[2 * CHUNK:] == bytes(SIZE - 2 * CHUNK)    # nothing of the later ones

    async def second_life() -> None:
        client, disk, replayed = await _open(env, volume, tmp_path)
        assert replayed == 9     # every record, committed or not
        assert await disk.read(0, SIZE) == expected
        await disk.flush()
        disk.log.close()
        await client.close()

    asyncio.run(second_life())
    assert asyncio.run(_service(env, volume)) == expected
