"""Full backup with 1 MiB chunks: client and server CPU per GiB beside restic's (issue 12).

    .venv/bin/python bench/backup_cpu.py [--size 1G] [--runs 3] [--before DIR] [--no-restic]

Backs up a deterministic VM-like image (bench/common.make_image) with `blockstore backup`
into a fresh volume (1 MiB chunks) of a fresh `blockstore serve` (fsync on), and, in the
same run, `restic backup` of the same image into a fresh repository. Prints per run and
side: MB/s of image bytes (wall time of the CLI process, its start included), the
client's CPU (its rusage) and the server's (/proc/<pid>/stat, user + system) in seconds
per GiB of image, and the load average at the end. On two shared cores both tools are
CPU-bound, so CPU s/GiB is the steadier figure; read ranges over runs, not single ones.
`--before DIR`: a checkout of older code (`git archive COMMIT | tar -x -C DIR`); its
client and server run in turns with this one's, so both columns come from one run.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (BLOCKSTORE, GIB, REPO, ab_image, compile_sources,  # noqa: E402
                          create_account, start_server)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(cmd: list[str], env: dict, cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one child process (its own rusage)."""
    c0, t0 = children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, env={**os.environ, **env}, cwd=cwd, capture_output=True,
                          text=True)
    took = time.perf_counter() - t0
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed: {done.stderr[-2000:]}")
    return took, children_cpu() - c0


def ours(code: Path, image: Path, work: Path) -> tuple[float, float, float]:
    """Wall s, client CPU s, server CPU s of one full backup with `code`'s client and server."""
    data = work / "data"
    token = create_account(data, "bench")
    server = start_server(data, code=code)
    try:
        env = {"BLOCKSTORE_TOKEN": token, "BLOCKSTORE_ADDRESS": server.address}
        size = -(-image.stat().st_size // 512) * 512
        vol = json.loads(subprocess.run(
            [*BLOCKSTORE, "volume", "create", "--size", str(size), "--chunk-size", "1M",
             "--json"], env={**os.environ, **env}, capture_output=True, text=True, check=True,
            cwd=code).stdout)["volume"]["volume_id"]
        s0 = server.cpu_seconds()
        wall, client = _run([*BLOCKSTORE, "backup", str(image), "--volume", vol, "--json"],
                            env, code)
        return wall, client, server.cpu_seconds() - s0
    finally:
        server.stop()


def restic(image: Path, work: Path) -> tuple[float, float, float]:
    env = {"RESTIC_PASSWORD": "bench", "RESTIC_REPOSITORY": str(work / "repo"),
           "RESTIC_CACHE_DIR": str(work / "cache")}
    subprocess.run(["restic", "init", "-q"], env={**os.environ, **env}, check=True,
                   capture_output=True)
    wall, cpu = _run(["restic", "backup", "-q", "--compression", "auto", str(image)], env, REPO)
    return wall, cpu, 0.0


def line(name: str, size: int, figures: tuple[float, float, float]) -> str:
    wall, client, server = figures
    gib = size / GIB
    return (f"{name:8} {size / wall / 1e6:6.0f} MB/s  client {client / gib:5.2f}  "
            f"server {server / gib:5.2f}  total {(client + server) / gib:5.2f} CPU s/GiB  "
            f"(load {os.getloadavg()[0]:.1f})")


def main() -> None:
    args, image = ab_image(__doc__.splitlines()[0], warm_gib=4.0)
    subprocess.run(["cat", str(image)], stdout=subprocess.DEVNULL, check=True)  # page cache
    sides = [("this", lambda w: ours(REPO, image, w))]
    compile_sources()
    if args.before:
        compile_sources(args.before.resolve())
        sides.append(("before", lambda w: ours(args.before.resolve(), image, w)))
    if not args.no_restic and shutil.which("restic"):
        sides.append(("restic", lambda w: restic(image, w)))
    print(f"full backup of a {args.size >> 20} MiB VM-like image, 1 MiB chunks, fsync on; "
          "CPU seconds per GiB of image (client = the CLI's rusage, server = /proc)")
    for run in range(1, args.runs + 1):
        for name, fn in sides:
            with tempfile.TemporaryDirectory(prefix="blockstore-backupcpu-",
                                             dir=args.image_dir) as tmp:
                print(f"run {run} {line(name, args.size, fn(Path(tmp)))}", flush=True)


if __name__ == "__main__":
    main()
