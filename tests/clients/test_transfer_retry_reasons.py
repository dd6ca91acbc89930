"""Bulk upload retries what clears by waiting and nothing else, like every other call.

A STORAGE_FULL refusal (RESOURCE_EXHAUSTED, RetryInfo 30 s) does not clear by waiting: the
client library reports it at once (clients/retry.py), and so must `upload_image`, which
runs its own retry loop per stream. Before the fix it slept the server's 30 s RetryInfo
between attempts and gave up only after minutes. Real server, real refusal (--min-free
larger than any disk); the injected sleep records instead of waiting.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from blockstore.v1 import data_plane_pb2 as dp
from clients import AsyncClient, ResourceExhausted, RetryPolicy
from clients.transfer.upload import upload_image
from tests.serverproc import create_account, serve

SIZE, CHUNK = 4 << 20, 1 << 20


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def full_server(tmp_path):
    """A server whose account has a volume, restarted with a free-space reserve no disk
    has: every new write is refused with STORAGE_FULL. Yields (server, token, volume id)."""
    data = tmp_path / "data"
    proc = serve(data)
    token = create_account("full", data_dir=data)["token"]

    async def volume() -> str:
        async with AsyncClient(proc.address, token) as client:
            made, _ = await client.create_volume(size_bytes=SIZE, chunk_size=CHUNK)
            return made.volume_id
    vid = asyncio.run(volume())
    assert proc.stop() == 0
    full = serve(data, "--min-free", "1P")
    yield full, token, vid
    full.stop()


async def test_upload_reports_storage_full_at_once(full_server, tmp_path):
    server, token, vid = full_server
    image = tmp_path / "disk.img"
    image.write_bytes(os.urandom(2 * CHUNK))
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=4, sleep=sleeps)
    async with AsyncClient(server.address, token, retry=policy) as client:
        with pytest.raises(ResourceExhausted) as caught:
            await upload_image(client, str(image), SIZE, CHUNK,
                               dp.UploadTarget(volume_id=vid))
    assert caught.value.reason == "STORAGE_FULL", caught.value
    assert sleeps == [], f"slept {sleeps} s before reporting a full disk"
