"""Downloads that amplify cannot take the server away from other accounts.

Two accounts run DownloadBlocks calls that cost much more than they return (the widest
sparse range one call may span, 1 TiB; 10,000 ranges of 512 bytes over one chunk;
a whole 64 TiB volume, which is refused), nine at a time,
while a third account times GetVolume. Its p99 must stay under P99_BOUND_S; before the
fix the heavy calls burned CPU for minutes and held the manifest's read connections,
and other accounts' calls timed out (10 s) while health said SERVING. The bound is
generous (p99 measured 25-400 ms on 2 shared cores) so a loaded machine cannot fail it;
the figure is printed.
"""

from __future__ import annotations

import asyncio
import os
import time

import grpc
import pytest

from blockstore.v1 import data_plane_pb2 as dpb
from data_plane.config import DataPlaneConfig
from tests.hostile.world import b3
from tests.rpcerrors import error_info
from tests.resilience.load import TIB, Account, latencies, p99, sparse_downloads, stop
from tests.serverproc import create_account, serve

P99_BOUND_S = 5.0
CAP = DataPlaneConfig().max_download_chunks
MEASURE_S = 6.0


@pytest.fixture
def server(tmp_path):
    proc = serve(tmp_path)
    proc.data_dir = tmp_path
    yield proc
    proc.stop()


def account(server) -> Account:
    made = create_account(f"fair-{os.urandom(3).hex()}", data_dir=server.data_dir)
    return Account(server.address, made["token"])


async def one_chunk(acct: Account, volume_id: str, offset: int) -> bytes:
    data = os.urandom(1 << 20)

    def messages():
        yield dpb.UploadBlocksRequest(target=dpb.UploadTarget(volume_id=volume_id))
        yield dpb.UploadBlocksRequest(block=dpb.UploadBlock(
            offset=offset, length=len(data), checksum=b3(data), data=data))
    await acct.dp.UploadBlocks(messages(), metadata=acct.md, timeout=30)
    return data


async def until_answered(accounts: list[Account], timeout: float = 60.0) -> None:
    """Until every account has had at least one call answered (or refused)."""
    deadline = time.monotonic() + timeout
    while not all(sum(a.outcomes.values()) for a in accounts):
        assert time.monotonic() < deadline, [dict(a.outcomes) for a in accounts]
        await asyncio.sleep(0.05)


async def test_heavy_downloads_of_two_accounts_leave_a_third_its_latency(server):
    heavy = [account(server), account(server)]
    victim = account(server)
    tasks: list[asyncio.Task] = []
    try:
        mine = await victim.volume(1 << 30)
        baseline = p99(await latencies(victim, mine, 1.0))
        vids = [await acct.volume(64 * TIB) for acct in heavy]
        for acct, vid in zip(heavy, vids):
            await one_chunk(acct, vid, 32 * TIB)
        tiny = [(32 * TIB + 512 * i, 512) for i in range(10_000)]
        widest = [(31 * TIB, CAP << 20)]     # the most one call may span, 1 MiB chunks
        for acct, vid in zip(heavy, vids):
            tasks += [asyncio.create_task(sparse_downloads(acct, vid, widest))
                      for _ in range(4)]
            tasks.append(asyncio.create_task(sparse_downloads(acct, vid)))   # refused
            tasks += [asyncio.create_task(sparse_downloads(acct, vid, tiny)) for _ in range(4)]
        await until_answered(heavy)        # the heavy calls reach the server
        loaded = await latencies(victim, mine, MEASURE_S)
        await stop(tasks)
        tail = p99(loaded)
        print(f"\nGetVolume p99 {baseline * 1000:.1f} ms alone, {tail * 1000:.1f} ms under "
              f"18 heavy download loops ({len(loaded)} calls); heavy outcomes: "
              f"{[dict(a.outcomes) for a in heavy]}")
        assert tail < P99_BOUND_S, f"GetVolume p99 {tail:.3f} s under load"
        for acct in heavy:
            refused = {code for code in acct.outcomes if code != "OK"}
            assert refused <= {grpc.StatusCode.INVALID_ARGUMENT.name,
                               grpc.StatusCode.RESOURCE_EXHAUSTED.name}, acct.outcomes
    finally:
        await stop(tasks)
        for acct in [*heavy, victim]:
            await acct.close()


async def test_a_download_spanning_more_than_the_cap_is_refused_at_once(server):
    acct = account(server)
    try:
        vid = await acct.volume(64 * TIB)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            async for _ in acct.dp.DownloadBlocks(dpb.DownloadBlocksRequest(volume_id=vid),
                                                  metadata=acct.md, timeout=10):
                pass
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value
        assert error_info(caught.value).reason == "DOWNLOAD_TOO_LARGE"
        assert str(CAP) in caught.value.details() and vid in caught.value.details()
    finally:
        await acct.close()


async def test_many_small_ranges_over_one_chunk_read_it_right(server):
    acct = account(server)
    try:
        vid = await acct.volume(1 << 30)
        data = await one_chunk(acct, vid, 0)
        ranges = [dpb.ByteRange(offset=512 * i, length=512) for i in range(2048)]
        got = [m async for m in acct.dp.DownloadBlocks(dpb.DownloadBlocksRequest(
            volume_id=vid, ranges=ranges), metadata=acct.md, timeout=60)]
        assert b"".join(m.data for m in got) == data
        assert all(b3(m.data) == m.checksum for m in got)
    finally:
        await acct.close()
