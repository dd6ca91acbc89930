"""Does an upload's reply latency tell whether another account stores a chunk?

    .venv/bin/python bench/dedup_timing.py [--chunk 64K] [--rounds 200] [--no-fsync]

Starts `blockstore serve` on loopback (fsync on by default). Account A uploads `rounds`
random chunks. Account B then uploads, one single-block stream at a time and in
alternation (order swapped every round), a chunk A stores (a hit in the shared store, new to B) and a chunk nobody
stores. Prints the reply latency of each kind (median, p10, p90, in ms) and the
difference of the medians. Replies themselves are identical (tests/data_plane/
test_account_scope.py); this measures what is left in the timing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import blake3
import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import create_account, start_server  # noqa: E402
from blockstore.v1 import control_plane_pb2 as cpb  # noqa: E402
from blockstore.v1 import control_plane_pb2_grpc, data_plane_pb2_grpc  # noqa: E402
from blockstore.v1 import data_plane_pb2 as dpb  # noqa: E402
from clients.sizes import parse_size  # noqa: E402


def stream(volume_id: str, offset: int, data: bytes) -> list[dpb.UploadBlocksRequest]:
    block = dpb.UploadBlock(offset=offset, length=len(data), data=data,
                            checksum=blake3.blake3(data).digest())
    return [dpb.UploadBlocksRequest(target=dpb.UploadTarget(volume_id=volume_id)),
            dpb.UploadBlocksRequest(block=block)]


async def timed_upload(dp, md, volume_id: str, offset: int, data: bytes) -> float:
    start = time.perf_counter()
    await dp.UploadBlocks(iter(stream(volume_id, offset, data)), metadata=md)
    return (time.perf_counter() - start) * 1000


def summary(name: str, ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=10)
    return f"{name:<34} median {statistics.median(ms):7.3f}  p10 {q[0]:7.3f}  p90 {q[-1]:7.3f}"


async def run(args: argparse.Namespace, work: Path) -> None:
    server = start_server(work / "data", *(["--no-fsync"] if args.no_fsync else []))
    try:
        tokens = [create_account(work / "data", name) for name in ("owner", "prober")]
        mds = [(("authorization", f"Bearer {t}"),) for t in tokens]
        async with grpc.aio.insecure_channel(server.address) as ch:
            cp = control_plane_pb2_grpc.ControlPlaneServiceStub(ch)
            dp = data_plane_pb2_grpc.DataPlaneServiceStub(ch)
            size = 2 * args.rounds * args.chunk
            vols = [(await cp.CreateVolume(cpb.CreateVolumeRequest(
                size_bytes=size, chunk_size=args.chunk), metadata=md)).volume.volume_id
                for md in mds]
            secrets = [os.urandom(args.chunk) for _ in range(args.rounds)]
            for i, data in enumerate(secrets):
                await timed_upload(dp, mds[0], vols[0], i * args.chunk, data)
            hit, new = [], []
            for i, data in enumerate(secrets):
                pair = [(hit, 2 * i, data), (new, 2 * i + 1, os.urandom(args.chunk))]
                for out, slot, payload in pair[::-1] if i % 2 else pair:
                    out.append(await timed_upload(dp, mds[1], vols[1], slot * args.chunk,
                                                  payload))
    finally:
        server.stop()
    print(f"chunk {args.chunk} bytes, {args.rounds} rounds, fsync {'off' if args.no_fsync else 'on'}")
    print(summary("another account's chunk (hit)", hit))
    print(summary("a chunk nobody stores (new)", new))
    print(f"median difference (new - hit): {statistics.median(new) - statistics.median(hit):.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk", type=parse_size, default=64 << 10)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--no-fsync", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as work:
        asyncio.run(run(args, Path(work)))


if __name__ == "__main__":
    main()
