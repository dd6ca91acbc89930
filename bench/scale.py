"""Scale probe: costs that should follow the work, not the size of the store.

    .venv/bin/python bench/scale.py [--rows 1000000] [--snapshots 4000] [--holes 1T,64T]

Against one `blockstore serve` on loopback (fsync on) it builds a 256 GiB volume with
64 KiB chunks holding `--rows` block rows (written by reference through the manifest
API, see bench/scale_setup.py) and a volume with `--snapshots` snapshots, then measures
each operation below, with the p50/p99 of a GetVolume loop running alongside it (the
stall it causes other callers) and the server's resident memory:
ListChangedBlocks of 100 changes, DownloadBlocks of an unwritten volume, CreateSnapshot
at 10 / 1,000 / N snapshots, GC's token check and batch statements, GC compaction of
the deleted big volume beside a stream of 1-block uploads, the manifest file's size
after deletes and GC, a full upload with 64 KiB chunks (per-chunk server CPU and
context switches) and 1/2/4/8 concurrent uploading clients (server peak RSS), each on
a fresh server. The last column is the figure the first probe measured (issue 12).
Use `--rows 100000 --snapshots 400 --holes 64G` for a quick run while developing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import scale_probes as probes  # noqa: E402
from bench.common import make_image, row  # noqa: E402
from clients.sizes import parse_size  # noqa: E402

WIDTHS = [44, 26, 24, 30]


def report(results: list[probes.Result]) -> None:
    print()
    print(row(["operation", "measured", "GetVolume p50/p99", "first probe (issue 12)"],
              WIDTHS))
    for r in results:
        print(row([r.name, r.measured, r.stall, r.before], WIDTHS))


async def run(args: argparse.Namespace, work: Path) -> None:
    results: list[probes.Result] = []
    big = await probes.BigStore.start(work / "big", args)
    try:
        results.append(await big.idle())
        results.append(await big.changed_blocks())
        for size in args.holes:
            results.append(await big.holes(size))
        results += await big.snapshots(args.snapshots)
        results += await big.gc_statements()
        results += await big.compaction()
    finally:
        await big.stop()
    image = make_image(args.image_dir / f"blockstore-scale-{args.upload_size}-1.img",
                       args.upload_size, seed=1)
    results.append(probes.full_upload(work / "up64k", image))
    images = [make_image(args.image_dir / f"blockstore-scale-{args.upload_size}-{i}.img",
                         args.upload_size, seed=i) for i in range(1, max(args.clients) + 1)]
    for n in args.clients:
        results.append(probes.concurrent_uploads(work / f"clients{n}", images[:n]))
    report(results)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="block rows of the big volume")
    p.add_argument("--snapshots", type=int, default=4000)
    p.add_argument("--holes", type=lambda s: [parse_size(x) for x in s.split(",")],
                   default=[1 << 40, 64 << 40], help="sizes of the unwritten volumes to read")
    p.add_argument("--upload-size", type=parse_size, default=256 << 20,
                   help="image size per uploading client")
    p.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")],
                   default=[1, 2, 4, 8])
    p.add_argument("--image-dir", type=Path, default=Path(tempfile.gettempdir()))
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="blockstore-scale-") as work:
        asyncio.run(run(args, Path(work)))


if __name__ == "__main__":
    main()
