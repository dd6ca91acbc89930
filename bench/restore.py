"""Restore speed: `blockstore download` of a snapshot against `restic restore`, in turns.

    .venv/bin/python bench/restore.py [--size 1G] [--runs 3] [--before DIR] [--no-restic]

One VM-like image (bench/common.make_image) is backed up once per side: into a
`blockstore serve` on loopback (fsync on, 1 MiB chunks) for this checkout and, with
`--before DIR` (e.g. `git archive COMMIT | tar -x -C DIR`), for older code (its server
and its client); into a local restic repository. Each run then restores every side once,
in a rotating order, into a fresh file, and prints per restore: MB/s of image bytes (wall
time of the command, its start included), client CPU seconds, our server's CPU seconds,
both per GiB, and the load average; then ranges per side and restic's wall time over
ours per run (the ratio bench/compare.py prints). The machine is shared: read ranges.
Client system CPU is printed apart: on this VM page-cache growth into memory the guest
never touched costs several times the usual system time, so it varies with what ran
before (see bench/common.warm_memory; `--warm-gib`, default 8 as bench/compare.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (BLOCKSTORE, GIB, REPO, ServerProc, ab_image,  # noqa: E402
                          create_account, start_server)


@dataclass
class Side:
    name: str
    restore: list[str]                      # the command; the output path is appended
    env: dict[str, str]
    cwd: Path
    server: ServerProc | None = None
    out_of: Callable[[Path], Path] = lambda out: out      # where the restored image lands
    rows: list[tuple[float, float, float, float, float]] = field(default_factory=list)


def ours(name: str, code: Path, image: Path, work: Path) -> Side:
    data = work / f"{name}-data"
    server = start_server(data, code=code)
    token = create_account(data, "bench")
    env = {"BLOCKSTORE_ADDRESS": server.address, "BLOCKSTORE_TOKEN": token}
    run = {"env": {**os.environ, **env}, "cwd": code, "capture_output": True, "text": True,
           "check": True}
    size = -(-image.stat().st_size // 512) * 512
    vol = json.loads(subprocess.run([*BLOCKSTORE, "volume", "create", "--size", str(size),
                                     "--chunk-size", "1M", "--json"], **run).stdout)
    backup = subprocess.run([*BLOCKSTORE, "backup", str(image), "--volume",
                             vol["volume"]["volume_id"], "--json"], **run)
    snap = json.loads(backup.stdout)["snapshot_id"]
    return Side(name, [*BLOCKSTORE, "download", "--no-progress", "--snapshot", snap], env,
                code, server)


def restic(image: Path, work: Path) -> Side:
    env = {"RESTIC_PASSWORD": "bench", "RESTIC_REPOSITORY": str(work / "restic-repo"),
           "RESTIC_CACHE_DIR": str(work / "restic-cache")}
    src = work / "restic-src" / "disk.img"
    src.parent.mkdir()
    shutil.copyfile(image, src)
    for cmd in (["restic", "init", "-q"],
                ["restic", "backup", "-q", "--compression", "auto", str(src)]):
        subprocess.run(cmd, env={**os.environ, **env}, check=True, capture_output=True)
    src.unlink()
    return Side("restic", ["restic", "restore", "-q", "latest", "--target"], env, REPO,
                out_of=lambda out: out / src.relative_to("/"))


def restore(side: Side, out: Path, image: Path) -> tuple[float, float, float, float, float]:
    """(wall, client CPU, server CPU, load, client system CPU) of one restore into `out`,
    checked byte-exact."""
    s0 = side.server.cpu_seconds() if side.server else 0.0
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen([*side.restore, str(out)], env={**os.environ, **side.env},
                            cwd=side.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{side.name} restore failed: {proc.stderr.read().decode()[-2000:]}")
    server = side.server.cpu_seconds() - s0 if side.server else 0.0
    got = side.out_of(out)
    if subprocess.run(["cmp", "-s", str(got), str(image)]).returncode:
        raise RuntimeError(f"{side.name} restored an image that differs")
    return wall, usage.ru_utime + usage.ru_stime, server, load, usage.ru_stime


def rng(values: list[float], fmt: str = "{:.2f}") -> str:
    lo, hi = min(values), max(values)
    return fmt.format(lo) if lo == hi else f"{fmt.format(lo)}-{fmt.format(hi)}"


def report(sides: list[Side], size: int) -> None:
    gib = size / GIB
    print("\nranges over runs (per GiB of image: CPU seconds)")
    for s in sides:
        walls = [r[0] for r in s.rows]
        print(f"  {s.name:8} {rng([size / w / 1e6 for w in walls], '{:.0f}')} MB/s  wall "
              f"{rng(walls)} s  client CPU {rng([r[1] / gib for r in s.rows])}  server CPU "
              f"{rng([r[2] / gib for r in s.rows])}  load {rng([r[3] for r in s.rows], '{:.1f}')}")
    peer = next((s for s in sides if s.name == "restic"), None)
    for s in sides:
        if peer and s is not peer:
            ratios = [p[0] / o[0] for p, o in zip(peer.rows, s.rows)]
            print(f"  restic wall / {s.name} wall per run: "
                  + ", ".join(f"{r:.2f}x" for r in ratios))


def main() -> None:
    args, image = ab_image(__doc__.splitlines()[0], warm_gib=8.0)
    work = Path(tempfile.mkdtemp(prefix="blockstore-restore-", dir=args.image_dir))
    sides: list[Side] = []
    try:
        sides.append(ours("this", REPO, image, work))
        if args.before:
            sides.append(ours("before", args.before.resolve(), image, work))
        if not args.no_restic:
            sides.append(restic(image, work))
        print(f"restore of a {args.size >> 20} MiB VM-like image, 1 MiB chunks, fsync on; "
              "CPU seconds per GiB")
        for run in range(args.runs):
            for side in sides[run % len(sides):] + sides[:run % len(sides)]:
                out = work / f"out-{side.name}"
                side.rows.append(restore(side, out, image))
                shutil.rmtree(out) if out.is_dir() else out.unlink()
                wall, client, server, load, system = side.rows[-1]
                per = GIB / args.size
                print(f"run {run + 1} {side.name:7} {args.size / wall / 1e6:5.0f} MB/s  wall "
                      f"{wall:5.2f} s  client {client * per:.2f} (sys {system * per:.2f})  "
                      f"server {server * per:.2f}  (load {load:.1f})", flush=True)
        report(sides, args.size)
    finally:
        for side in sides:
            if side.server:
                side.server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
