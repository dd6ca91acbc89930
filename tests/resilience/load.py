"""Async load for the resilience tests: heavy calls from some accounts, latency of another.

Each account is a grpc.aio channel of its own with its bearer token. Heavy loops run
until cancelled and count what they did and how they failed; `latencies` times a
cheap call (GetVolume) in a loop so its p99 can be compared with a bound.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import grpc

from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc as cp_grpc
from blockstore.v1 import data_plane_pb2 as dpb
from blockstore.v1 import data_plane_pb2_grpc as dp_grpc

TIB = 1 << 40


@dataclass
class Account:
    address: str
    token: str
    channel: grpc.aio.Channel = field(init=False)
    outcomes: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.channel = grpc.aio.insecure_channel(self.address, options=[
            ("grpc.max_receive_message_length", 64 << 20)])
        self.md = (("authorization", f"Bearer {self.token}"),)
        self.cp = cp_grpc.ControlPlaneServiceStub(self.channel)
        self.dp = dp_grpc.DataPlaneServiceStub(self.channel)

    async def volume(self, size: int, chunk_size: int = 1 << 20) -> str:
        reply = await self.cp.CreateVolume(cpb.CreateVolumeRequest(
            size_bytes=size, chunk_size=chunk_size), metadata=self.md, timeout=30)
        return reply.volume.volume_id

    async def close(self) -> None:
        await self.channel.close()

    def count(self, err: grpc.RpcError | None) -> None:
        self.outcomes["OK" if err is None else err.code().name] += 1


async def sparse_downloads(acct: Account, volume_id: str, ranges=()) -> None:
    """DownloadBlocks of `volume_id` (whole, or `ranges`) over and over, each call read
    to its end or its refusal."""
    request = dpb.DownloadBlocksRequest(volume_id=volume_id, ranges=[
        dpb.ByteRange(offset=o, length=n) for o, n in ranges])
    while True:
        try:
            async for _ in acct.dp.DownloadBlocks(request, metadata=acct.md, timeout=60):
                pass
            acct.count(None)
        except grpc.aio.AioRpcError as err:
            acct.count(err)
            await asyncio.sleep(0.05)        # a refused caller backs off, as clients do


async def latencies(acct: Account, volume_id: str, seconds: float) -> list[float]:
    """GetVolume round trips (seconds) for `seconds`; a failure is an infinite one."""
    out: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.monotonic()
        try:
            await acct.cp.GetVolume(cpb.GetVolumeRequest(volume_id=volume_id),
                                    metadata=acct.md, timeout=10)
            out.append(time.monotonic() - start)
        except grpc.aio.AioRpcError:
            out.append(float("inf"))
        await asyncio.sleep(0.01)
    return out


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def stop(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
