"""Shared pieces of the benchmarks: a VM-disk-like image, a server process, measurements.

Benchmarks print figures; they are never tests and never fail on timing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20
GIB = 1 << 30
REPO = Path(__file__).resolve().parent.parent
BLOCKSTORE = [sys.executable, "-m", "blockstore"]


PACKAGES = ("blockstore", "control_plane", "data_plane", "manifest", "chunkstore", "services",
            "clients", "ebs_facade")


def compile_sources(code: Path = REPO) -> None:
    """Bytecode for the packages of `code`, as an installed package has it. Where
    PYTHONDONTWRITEBYTECODE is set (as on the machines these run on) every `blockstore`
    process would compile its sources again: ~0.05-0.08 s of CPU inside each measured
    CLI run that no installed client pays. compileall writes it even so."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=code,
                   check=True, stdout=subprocess.DEVNULL)


def make_image(path: Path, size: int, seed: int = 1, block: int = MIB) -> Path:
    """A deterministic VM-like disk image: zero runs, random data, text, repeated blocks.

    Mix per 1 MiB block: ~25% zero runs, ~35% random (incompressible), ~25% text-like
    (compressible, distinct), ~15% copies of an earlier block (dedup candidates).
    """
    stamp = path.with_suffix(path.suffix + ".meta")
    meta = json.dumps({"size": size, "seed": seed, "block": block, "v": 1})
    if path.exists() and stamp.exists() and stamp.read_text() == meta:
        return path
    rng = random.Random(seed)
    words = [rng.randbytes(rng.randint(2, 9)).hex().encode() for _ in range(4000)]
    texts = [b" ".join(rng.choice(words) for _ in range(block // 6))[:block] for _ in range(8)]
    written: list[bytes] = []
    with open(path, "wb") as f:
        for i in range(-(-size // block)):
            n = min(block, size - i * block)
            kind = rng.random()
            if kind < 0.25:
                data = bytes(n)
            elif kind < 0.60:
                data = rng.randbytes(n)
            elif kind < 0.85:
                data = (b"%016d" % i + texts[i % 8])[:n]
            else:
                data = (rng.choice(written) if written else rng.randbytes(n))[:n]
            if data.count(0) != n and len(written) < 64:
                written.append(data)
            f.write(data.ljust(n, b"\0"))
    stamp.write_text(meta)
    return path


def mutate_image(src: Path, dst: Path, fraction: float, seed: int = 2,
                 block: int = MIB) -> int:
    """Copy `src` to `dst` with about `fraction` of its blocks rewritten; returns how many."""
    rng = random.Random(seed)
    size = src.stat().st_size
    blocks = -(-size // block)
    chosen = sorted(rng.sample(range(blocks), max(1, int(blocks * fraction))))
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        while chunk := fi.read(64 * MIB):
            fo.write(chunk)
    with open(dst, "r+b") as fo:
        for i in chosen:
            fo.seek(i * block)
            fo.write(rng.randbytes(min(block, size - i * block)))
    return len(chosen)


@dataclass
class ServerProc:
    proc: subprocess.Popen
    address: str
    data_dir: Path

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_server(data_dir: Path, *extra: str, code: Path = REPO) -> ServerProc:
    """`blockstore serve` on loopback; `code`: the checkout whose server runs (A/B runs)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([*BLOCKSTORE, "serve", "--data-dir", str(data_dir), "--listen",
                             "127.0.0.1:0", "--log-level", "WARNING", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=code)
    assert proc.stdout
    for line in proc.stdout:
        if "listening on " in line:
            address = line.rsplit("listening on ", 1)[1].split()[0]
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return ServerProc(proc, address, data_dir)
    raise RuntimeError("server did not start")


def create_account(data_dir: Path, name: str) -> str:
    out = subprocess.run([*BLOCKSTORE, "account", "create", name, "--data-dir", str(data_dir),
                          "--json"], capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout)["token"]


def disk_usage(path: Path) -> int:
    """Bytes allocated on disk under `path` (like du)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


class Meter:
    """Wall and CPU seconds of this process and of a server process, over a block."""

    def __init__(self, server: ServerProc | None = None) -> None:
        self.server = server

    def __enter__(self) -> "Meter":
        self.t0 = time.perf_counter()
        self.c0 = _self_cpu()
        self.s0 = self.server.cpu_seconds() if self.server else 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.t0
        self.client_cpu = _self_cpu() - self.c0
        self.server_cpu = (self.server.cpu_seconds() - self.s0) if self.server else 0.0


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def peak_rss_self_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def row(cols: list, widths: list[int]) -> str:
    return "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                     for i, (c, w) in enumerate(zip(cols, widths)))


def warm_memory(gib: float) -> float:
    """Touch `gib` GiB of fresh memory once and give it back; returns the seconds it took.

    On this kind of VM the first touch of a guest page costs the host a fault (about
    3 s of system time per GiB here), the second is free. Page-cache growth during a
    phase (chunk files, the downloaded image) would otherwise pay that one-time cost
    inside the measurement, which a long-running server never does.
    """
    import mmap

    start = time.perf_counter()
    size = int(gib * (1 << 30))
    block = b"\1" * (64 * MIB)
    with mmap.mmap(-1, size) as m:
        for _ in range(size // len(block)):
            m.write(block)
    return time.perf_counter() - start


def ab_image(description: str, warm_gib: float) -> tuple[argparse.Namespace, Path]:
    """The flags and image of a bench that runs this checkout, `--before DIR`'s code and
    restic in turns on one VM-like image (bench/backup_cpu.py, bench/restore.py), with
    fresh memory touched once first (`warm_memory`)."""
    from clients.sizes import parse_size

    p = argparse.ArgumentParser(description=description)
    p.add_argument("--size", type=parse_size, default=GIB)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--before", type=Path, help="checkout of the code to compare with")
    p.add_argument("--no-restic", action="store_true")
    p.add_argument("--warm-gib", type=float, default=warm_gib,
                   help="touch this much fresh memory first (see warm_memory)")
    p.add_argument("--image-dir", type=Path, default=Path(tempfile.gettempdir()))
    args = p.parse_args()
    image = make_image(args.image_dir / f"blockstore-bench-{args.size}.img", args.size)
    if args.warm_gib:
        warm_memory(args.warm_gib)
    return args, image
