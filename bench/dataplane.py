"""Data-plane benchmark: full upload, re-upload by reference, download, against the ceiling.

    .venv/bin/python bench/dataplane.py [--size 1G] [--streams 2] [--compress]
                                        [--metrics-overhead ROUNDS]

Generates a deterministic VM-like image, starts `blockstore serve` on loopback with
default durability (fsync on), and measures with our client library. Prints MB/s of
logical image bytes, wall and CPU seconds of client and server, server peak RSS,
stored bytes on disk, and the bare gRPC echo's MB/s from the same run. With
`--metrics-overhead ROUNDS` it instead compares full uploads with and without metrics and
per-RPC logs (bench/metrics_overhead.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import echo  # noqa: E402
from bench.common import (MIB, Meter, create_account, disk_usage, make_image,  # noqa: E402
                          row, start_server, warm_memory)
from bench.metrics_overhead import compare  # noqa: E402
from clients import AsyncClient, volume_target  # noqa: E402
from clients.sizes import parse_size  # noqa: E402
from clients.transfer import Tuning, download_to_fd, upload_image  # noqa: E402

WIDTHS = [26, 9, 8, 11, 11, 14]



async def run(args: argparse.Namespace, image: Path, work: Path) -> None:
    size = image.stat().st_size
    server = start_server(work / "data", *(["--no-fsync"] if args.no_fsync else []))
    token = create_account(work / "data", "bench")
    executor = ThreadPoolExecutor(4)
    results = []
    tuning = Tuning(streams=args.streams, compress_level=1 if args.compress else 0)
    try:
        async with AsyncClient(server.address, token, timeout=120) as client:
            volume, _ = await client.create_volume(size_bytes=-(-size // 512) * 512)
            vid = volume.volume_id
            for label in ("full upload", "re-upload by reference"):
                with Meter(server) as m:
                    await upload_image(client, str(image), volume.size_bytes, MIB,
                                       lambda: volume_target(vid), executor, tuning=tuning)
                results.append((label, m))
            out = work / "restored.img"
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.ftruncate(fd, size)
            with Meter(server) as m:
                await download_to_fd(client, fd, size, executor, volume_id=vid, tuning=tuning)
            os.close(fd)
            results.append(("download", m))
        same = _same(image, out)
        stored = disk_usage(work / "data" / "chunks")
        rss = server.peak_rss_mib()
    finally:
        server.stop()
        executor.shutdown()
    ceiling = echo.measure(min(size, 1 << 30), MIB, args.streams)
    _report(size, results, ceiling, stored, rss, same)


def _same(a: Path, b: Path) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(16 * MIB), fb.read(16 * MIB)
            if x != y:
                return False
            if not x:
                return True


def _report(size: int, results, ceiling: dict, stored: int, rss: float, same: bool) -> None:
    print(f"\nimage {size / MIB:.0f} MiB; server peak RSS {rss:.0f} MiB; stored on disk "
          f"{stored / MIB:.1f} MiB ({stored / size:.1%} of logical); download identical: {same}")
    print(row(["phase", "MB/s", "wall s", "client cpu", "server cpu", "vs echo"], WIDTHS))
    for label, m in results:
        mbps = size / m.wall / 1e6
        ref = ceiling["down_mbps"] if label == "download" else ceiling["up_mbps"]
        print(row([label, f"{mbps:.0f}", f"{m.wall:.2f}", f"{m.client_cpu:.2f}",
                   f"{m.server_cpu:.2f}", f"{mbps / ref:.0%}"], WIDTHS))
    print(row(["bare grpc echo up", f"{ceiling['up_mbps']:.0f}", "", "", "", ""], WIDTHS))
    print(row(["bare grpc echo down", f"{ceiling['down_mbps']:.0f}", "", "", "", ""], WIDTHS))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size", type=parse_size, default=1 << 30)
    p.add_argument("--streams", type=int, default=2)
    p.add_argument("--compress", action="store_true", help="compress on the client")
    p.add_argument("--no-fsync", action="store_true")
    p.add_argument("--metrics-overhead", type=int, default=0, metavar="ROUNDS",
                   help="compare upload MB/s with and without --metrics-listen and "
                        "per-RPC logs, ROUNDS pairs (bench/metrics_overhead.py)")
    p.add_argument("--warm-gib", type=float, default=4.0,
                   help="touch this much fresh memory before measuring (0: don't)")
    p.add_argument("--image-dir", type=Path, default=Path(tempfile.gettempdir()))
    args = p.parse_args()
    image = make_image(args.image_dir / f"blockstore-bench-{args.size}.img", args.size)
    if args.warm_gib:
        took = warm_memory(args.warm_gib)
        print(f"warmed {args.warm_gib:g} GiB of memory in {took:.1f}s (first touch of a VM page "
              "is costly; see bench/common.py warm_memory)")
    with tempfile.TemporaryDirectory(prefix="blockstore-bench-") as work:
        if args.metrics_overhead:
            tuning = Tuning(streams=args.streams, compress_level=1 if args.compress else 0)
            asyncio.run(compare(image, Path(work), args.metrics_overhead, tuning,
                                *(["--no-fsync"] if args.no_fsync else [])))
        else:
            asyncio.run(run(args, image, Path(work)))


if __name__ == "__main__":
    main()
