"""Full upload with small chunks: where the per-chunk server cost is (issue 12).

    .venv/bin/python bench/upload_chunks.py [--size 256M] [--chunk-size 64K] [--runs 3]
                                            [--before DIR] [--no-fsync] [--warm-dirs]
                                            [--store-dir DIR]

Uploads a deterministic VM-like image with `blockstore upload --create --chunk-size`
into a fresh `blockstore serve` (fsync on) and prints, per run: MB/s of image bytes
(wall time of the CLI process, its start included), server CPU per chunk (user and
system, from /proc/<pid>/stat), server context switches per chunk (voluntary and
involuntary, summed over its threads from /proc/<pid>/task/*/status) and the client's
CPU per chunk. `--before DIR`: a checkout of older code (e.g. `git archive COMMIT |
tar -x -C DIR`); its server runs in turns with this one, same client, same image, so
the two columns come from the same run. `--warm-dirs`: every chunk directory
(`chunks/ab/cd`, 65,536) exists before the upload, as in a store of a few hundred
thousand chunks or more; a fresh store also pays a mkdir for nearly every new chunk.
`--store-dir DIR`: where the stores are made (default: the temp dir). Each run's store
is removed after the last run, not before the next one: on ext4 without a journal (this
machine's) the kernel allocates an inode near its parent directory and skips, one by
one, every inode there freed in the last minutes, so a run made right after another
run's store was deleted paid a scan per new file and directory (same-run figures: 0.20
-> 0.38 -> 0.55 ms sys per chunk over three runs in a new top-level directory). Under a
temp dir that other programs fill and empty the same scan comes from them; a directory
of its own shows the store's own cost.
The machine is shared: read ranges over runs, not single figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BLOCKSTORE, REPO, create_account, make_image, start_server  # noqa: E402
from clients.sizes import parse_size  # noqa: E402


def cpu(pid: int) -> tuple[float, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def switches(pid: int) -> tuple[int, int]:
    vol = invol = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches"):
                    vol += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches"):
                    invol += int(line.split()[1])
        except FileNotFoundError:
            pass                   # a thread ended meanwhile
    return vol, invol


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def make_chunk_dirs(chunks: Path) -> None:
    for top in range(256):
        for sub in range(256):
            (chunks / f"{top:02x}" / f"{sub:02x}").mkdir(parents=True, exist_ok=True)


def one_run(code: Path, image: Path, chunk: int, extra: list[str], warm: bool,
            store: Path) -> str:
    data = store / "data"
    token = create_account(data, "bench")
    if warm:
        make_chunk_dirs(data / "chunks" / "chunks")     # the file store keeps them there
    server = start_server(data, *extra, code=code)
    pid = server.proc.pid
    try:
        env = {**os.environ, "BLOCKSTORE_TOKEN": token, "BLOCKSTORE_ADDRESS": server.address}
        c0, (u0, s0), (v0, n0), t0 = children_cpu(), cpu(pid), switches(pid), time.perf_counter()
        done = subprocess.run([*BLOCKSTORE, "upload", str(image), "--create",
                               "--no-progress", "--chunk-size", str(chunk)], env=env,
                              cwd=REPO, capture_output=True, text=True)
        took = time.perf_counter() - t0
        if done.returncode:
            raise RuntimeError(f"blockstore upload failed: {done.stderr}")
        (u1, s1), (v1, n1), c1 = cpu(pid), switches(pid), children_cpu()
    finally:
        server.stop()
    n = image.stat().st_size // chunk
    return (f"{image.stat().st_size / took / 1e6:6.1f} MB/s  server {(u1 - u0) * 1e3 / n:.2f} "
            f"user + {(s1 - s0) * 1e3 / n:.2f} sys ms/chunk, {(v1 - v0) / n:4.1f} + "
            f"{(n1 - n0) / n:3.1f} cs/chunk  client {(c1 - c0) * 1e3 / n:.2f} ms/chunk  "
            f"(load {os.getloadavg()[0]:.1f})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=parse_size, default=256 << 20)
    p.add_argument("--chunk-size", type=parse_size, default=64 << 10)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--before", type=Path, help="checkout of the code to compare with")
    p.add_argument("--no-fsync", action="store_true")
    p.add_argument("--warm-dirs", action="store_true",
                   help="create all 65,536 chunk directories first (steady-state store)")
    p.add_argument("--image-dir", type=Path, default=Path(tempfile.gettempdir()))
    p.add_argument("--store-dir", type=Path, help="where the stores are made (default: temp dir)")
    args = p.parse_args()
    image = make_image(args.image_dir / f"blockstore-bench-{args.size}.img", args.size)
    extra = ["--no-fsync"] if args.no_fsync else []
    codes = [("this", REPO)] + ([("before", args.before.resolve())] if args.before else [])
    print(f"full upload of {args.size >> 20} MiB in {args.chunk_size >> 10} KiB chunks, "
          f"{'no fsync' if args.no_fsync else 'fsync on'}"
          f"{', chunk directories made beforehand' if args.warm_dirs else ''}; server CPU and context switches "
          "are per chunk of the image")
    with tempfile.TemporaryDirectory(prefix="blockstore-upchunks-", dir=args.store_dir) as tmp:
        for run in range(1, args.runs + 1):
            for name, code in codes:
                store = Path(tmp) / f"{run}-{name}"
                figures = one_run(code, image, args.chunk_size, extra, args.warm_dirs, store)
                print(f"run {run} {name:6}  {figures}", flush=True)


if __name__ == "__main__":
    main()
