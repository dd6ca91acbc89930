"""What a new chunk costs the S3 chunk store: the write protocol before and after write
intents, on SeaweedFS on loopback.

    .venv/bin/python bench/s3_new_chunks.py [--chunk 1M] [--count 128] [--inflight 8]

- `seen marker + PUT` (before): each overwrite wrote the chunk's `seen/` object, then the
  chunk (two sequential PUTs per chunk);
- `intent + PUT` (now, `S3ChunkStore.put(overwrite=True)`): a write intent shared by the
  puts in flight together, then the chunk.
Both write `count` distinct chunks with `inflight` at a time, alternating three rounds
each on fresh keys; prints chunks/s, MB/s, the small objects written per chunk and the
CPU seconds per GiB of SeaweedFS and of this process (steadier than wall time on a
loaded machine).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import blake3
import obstore

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scale_out_planes import tree_cpu  # noqa: E402
from chunkstore.fileformat import pack_header  # noqa: E402
from chunkstore.protocol import Compression  # noqa: E402
from chunkstore.s3 import S3ChunkStore  # noqa: E402
from chunkstore.s3_config import parse_s3_url  # noqa: E402
from clients.sizes import parse_size  # noqa: E402
from tests.s3server import start_seaweedfs  # noqa: E402


async def marker_then_put(store: S3ChunkStore, token: bytes, data: bytes) -> None:
    await store.mark_seen(token)
    body = pack_header(Compression.NONE, len(data), len(data)) + data
    await obstore.put_async(store.s3, store.config.chunk_key(token), body, use_multipart=False)


async def intent_then_put(store: S3ChunkStore, token: bytes, data: bytes) -> None:
    await store.put(token, data, Compression.NONE, len(data), overwrite=True)


async def round_(store, way, chunks: list[bytes], inflight: int,
                 weed_pid: int) -> tuple[float, float, float]:
    """Wall seconds, SeaweedFS CPU seconds, this process's CPU seconds."""
    slots = asyncio.Semaphore(inflight)

    async def one(data: bytes) -> None:
        async with slots:
            await way(store, blake3.blake3(data).digest(), data)
    started, weed0, own0 = time.perf_counter(), tree_cpu(weed_pid), time.process_time()
    await asyncio.gather(*(one(c) for c in chunks))
    return (time.perf_counter() - started, tree_cpu(weed_pid) - weed0,
            time.process_time() - own0)


async def small_objects(store: S3ChunkStore, folder: str) -> int:
    return sum([len(page) async for page in obstore.list(store.s3,
                                                          prefix=store.config.key(folder))])


async def run(weed, size: int, count: int, inflight: int) -> None:
    ways = {"seen marker + PUT": marker_then_put, "intent + PUT": intent_then_put}
    secs: dict[str, list[float]] = {name: [] for name in ways}
    cpu: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    small: dict[str, int] = {}
    for r in range(3):
        for name, way in (ways.items() if r % 2 == 0 else reversed(ways.items())):
            store = S3ChunkStore(parse_s3_url(weed.url("bench", f"{r}-{len(secs[name])}-"
                                                       f"{name[:4]}"), weed.env()))
            chunks = [os.urandom(size) for _ in range(count)]
            wall, weed_cpu, own_cpu = await round_(store, way, chunks, inflight, weed.proc.pid)
            secs[name].append(wall)
            cpu[name].append((weed_cpu, own_cpu))
            small[name] = (await small_objects(store, "seen") +
                           await small_objects(store, "intents"))
    print(f"{count} chunks of {size >> 10} KiB, {inflight} in flight, 3 rounds each")
    gib = count * size / (1 << 30)
    print(f"{'protocol':20} {'chunks/s median':>15} {'range':>13} {'MB/s':>7} "
          f"{'small PUTs/chunk':>17} {'weed CPU s/GiB':>15} {'client CPU s/GiB':>17}")
    for name, times in secs.items():
        rates = sorted(count / t for t in times)
        median = statistics.median(rates)
        print(f"{name:20} {median:15.1f} {f'{rates[0]:.1f}-{rates[-1]:.1f}':>13} "
              f"{median * size / 1e6:7.1f} {small[name] / count:17.2f} "
              f"{statistics.median(c[0] for c in cpu[name]) / gib:15.1f} "
              f"{statistics.median(c[1] for c in cpu[name]) / gib:17.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunk", default="1M")
    parser.add_argument("--count", type=int, default=128)
    parser.add_argument("--inflight", type=int, default=8)
    args = parser.parse_args()
    weed = start_seaweedfs()
    try:
        weed.make_bucket("bench")
        asyncio.run(run(weed, parse_size(args.chunk), args.count, args.inflight))
    finally:
        weed.stop()


if __name__ == "__main__":
    main()
