"""SQLite + a directory against PostgreSQL + SeaweedFS (S3), in one run on this machine.

    .venv/bin/python bench/scale_out.py [--size 256M] [--phase all|single|planes]
                                        [--clients 4] [--client-size 32M] [--planes 1,2,3]

Starts `blockstore serve` twice on loopback (fsync on): once on the embedded stores, once
with `--db postgresql://...` (a throwaway cluster, tests/pgserver.py) and
`--chunks s3://...` (SeaweedFS, tests/s3server.py; that PostgreSQL runs with fsync off, so
the comparison flatters it on commits). On each, with the real CLI and
client library:
- backup of a VM-like image (bench/common.make_image) and its restore: MB/s of logical
  image bytes;
- CreateSnapshot (point in time) one after another: operations per second;
- a 1,000-block commit (one UploadBlocks stream of 1,000 all-zero 64 KiB blocks: the
  manifest's share of an upload, no chunk data): milliseconds, median of 5;
- ListChangedBlocks over 100,000 rows (a snapshot of a volume with 100,000 written zero
  chunks, read page by page): seconds, and the CPU seconds of the server and database;
- CPU seconds per GiB of backup and restore: the server with its stores (PostgreSQL and
  SeaweedFS counted as process trees; SQLite and the directory are in the server), and
  the CLI client.
Phase `planes` (bench/scale_out_planes.py): aggregate MB/s of `--clients` concurrent CLI
clients over 1, 2 and 3 data-plane processes sharing PostgreSQL + SeaweedFS, with CPU
seconds per GiB of each process tree. Figures on a shared machine are noisy: run twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BLOCKSTORE, MIB, REPO, make_image, start_server  # noqa: E402
from bench.scale_out_planes import postmaster, print_planes, run_planes, tree_cpu  # noqa: E402
from blockstore.v1 import data_plane_pb2 as dp  # noqa: E402
from clients.aio import AsyncClient  # noqa: E402
from clients.sizes import parse_size  # noqa: E402
from tests.backends import fresh_database, make_template  # noqa: E402
from tests.pgserver import remove, start_cluster  # noqa: E402
from tests.s3server import start_seaweedfs  # noqa: E402

SMALL = 64 << 10


def cli(env: dict, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([*BLOCKSTORE, *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **env}, timeout=3600)
    if done.returncode:
        raise RuntimeError(f"blockstore {' '.join(args)}: {done.stderr}")
    return time.perf_counter() - started, done.stdout


async def manifest_ops(address: str, token: str, cpu, db: str | None) -> dict[str, float]:
    """`cpu()`: CPU seconds of the server and its database so far (where listing goes).
    `db`: a PostgreSQL URL, to list once more after ANALYZE (the rows were just loaded
    and have no planner statistics yet)."""
    out = {}
    async with AsyncClient(address, token) as c:
        vol, _ = await c.create_volume(size_bytes=64 * MIB, chunk_size=SMALL)
        started = time.perf_counter()
        for _ in range(200):
            await c.create_snapshot(vol.volume_id)
        out["CreateSnapshot ops/s"] = 200 / (time.perf_counter() - started)

        big, _ = await c.create_volume(size_bytes=1000 * SMALL, chunk_size=SMALL)
        times = []
        for _ in range(5):
            blocks = [dp.UploadBlock(offset=i * SMALL, length=SMALL, zero=True)
                      for i in range(1000)]
            started = time.perf_counter()
            await c.upload_blocks(dp.UploadTarget(volume_id=big.volume_id), blocks)
            times.append(time.perf_counter() - started)
        out["1,000-block commit ms"] = statistics.median(times) * 1000

        rows = 100_000
        huge, _ = await c.create_volume(size_bytes=rows * SMALL, chunk_size=SMALL)
        for start in range(0, rows, 25_000):
            await c.upload_blocks(dp.UploadTarget(volume_id=huge.volume_id),
                                  [dp.UploadBlock(offset=i * SMALL, length=SMALL, zero=True)
                                   for i in range(start, start + 25_000)])
        snap = await c.create_snapshot(huge.volume_id)
        started, cpu0 = time.perf_counter(), cpu()
        seen = 0
        async for _ in c.list_changed_blocks(snap.snapshot_id):
            seen += 1
        assert seen == rows, seen
        out["ListChangedBlocks 100k rows s"] = time.perf_counter() - started
        out["  listing CPU s server"], out["  listing CPU s database"] = \
            [b - a for a, b in zip(cpu0, cpu())]
        if db:
            import asyncpg
            conn = await asyncpg.connect(db)
            await conn.execute("ANALYZE blocks")
            await conn.close()
        started = time.perf_counter()
        async for _ in c.list_changed_blocks(snap.snapshot_id):
            pass
        out["  again, after ANALYZE (PG) s"] = time.perf_counter() - started
    return out


def run_setup(name: str, root: Path, image: Path, size: int, extra: list[str],
              db: str | None, store_pids: tuple[int, ...] = ()) -> dict[str, float]:
    """`store_pids`: PostgreSQL's postmaster and SeaweedFS (in-process for SQLite+dir)."""
    server = start_server(root, "--log-level", "WARNING", *extra)
    gib = size / float(1 << 30)

    def cpu() -> tuple[float, ...]:
        """Server, PostgreSQL, SeaweedFS (process trees; 0 for SQLite + dir, which are in
        the server) and the CLI clients (reaped children of this process)."""
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        stores = [tree_cpu(p) for p in store_pids] or [0.0, 0.0]
        return (server.cpu_seconds(), *stores, kids.ru_utime + kids.ru_stime)

    def per_gib(phase: str, before: tuple[float, ...]) -> dict[str, float]:
        spent = [(b - a) / gib for a, b in zip(before, cpu())]
        return {f"  {phase} CPU s/GiB server+stores": sum(spent[:3]),
                **{f"    {phase} CPU s/GiB {who}": s for who, s in
                   zip(("server", "PostgreSQL", "SeaweedFS", "client"), spent)}}
    try:
        where = ["--db", db] if db else ["--data-dir", str(root)]
        token = json.loads(cli({}, "account", "create", f"bench-{name}", *where,
                               "--json")[1])["token"]
        env = {"BLOCKSTORE_ADDRESS": server.address, "BLOCKSTORE_TOKEN": token}
        vol = json.loads(cli(env, "volume", "create", "--size", str(size), "--json")[1])
        vid = vol["volume"]["volume_id"]
        figures = {"  load average before backup": os.getloadavg()[0]}
        before = cpu()
        secs, out = cli(env, "backup", str(image), "--volume", vid, "--json", "--no-progress")
        figures["backup MB/s"] = size / secs / 1e6
        figures.update(per_gib("backup", before))
        snap = json.loads(out)["snapshot_id"]
        figures["  load average before restore"] = os.getloadavg()[0]
        before = cpu()
        secs, _ = cli(env, "download", "--snapshot", snap, str(root / "restored.img"),
                      "--no-progress")
        figures["restore MB/s"] = size / secs / 1e6
        figures.update(per_gib("restore", before))
        pg_pid = store_pids[0] if store_pids else None
        figures.update(asyncio.run(manifest_ops(
            server.address, token,
            lambda: (server.cpu_seconds(), tree_cpu(pg_pid) if pg_pid else 0.0),
            db if pg_pid else None)))
        return figures
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="256M")
    parser.add_argument("--phase", choices=["all", "single", "planes"], default="all")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--client-size", default="32M")
    parser.add_argument("--planes", default="1,2,3")
    args = parser.parse_args()
    size, client_size = parse_size(args.size), parse_size(args.client_size)
    with tempfile.TemporaryDirectory(prefix="bench-scale-out-") as tmp:
        root = Path(tmp)
        results = {}
        if args.phase != "planes":
            image = make_image(root / "image.raw", size)
            results["sqlite+dir"] = run_setup("sqlite", root / "a", image, size, [], None)
        pg, weed = start_cluster(), start_seaweedfs()
        try:
            make_template(pg)
            weed.make_bucket("bench")
            os.environ.update(weed.env())          # the server and CLI read them
            if args.phase != "planes":
                db = fresh_database(pg)
                results["pg+s3"] = run_setup("pg", root / "b", image, size,
                                             ["--db", db, "--chunks", weed.url("bench")], db,
                                             (postmaster(pg), weed.proc.pid))
                print_single(results, size)
            if args.phase != "single":
                planes = {n: run_planes(root, pg, weed, n, args.clients, client_size)
                          for n in map(int, args.planes.split(","))}
                print_planes(planes, args.clients, client_size)
        finally:
            weed.stop()
            remove(pg)


def print_single(results: dict, size: int) -> None:
    names = list(results["sqlite+dir"])
    print(f"\n{'phase':32} {'sqlite+dir':>12} {'pg+s3':>12} {'pg+s3 / sqlite':>15}")
    for n in names:
        a, b = results["sqlite+dir"][n], results["pg+s3"][n]
        ratio = f"{b / a:15.2f}" if a and "load" not in n else f"{'-':>15}"
        print(f"{n:32} {a:12.1f} {b:12.1f} {ratio}")
    print(f"(image {size / MIB:.0f} MiB)", flush=True)


if __name__ == "__main__":
    main()
