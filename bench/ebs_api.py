"""EBS direct benchmark: boto3 PutSnapshotBlock from many threads against `blockstore backup`.

    .venv/bin/python bench/ebs_api.py [--size 256M] [--threads 16] [--rounds 2] [--no-fsync]

One `blockstore serve --ebs-listen` on loopback (default durability: fsync on), one
account, one deterministic VM-like image (bench/common.py). Each round writes the image
as a fresh full upload twice, alternating which goes first:
- EBS: StartSnapshot, a PutSnapshotBlock per non-zero 512 KiB block (zero blocks are
  skipped, as EBS uploaders such as coldsnap do) from N threads over one boto3 client,
  CompleteSnapshot with ChangedBlocksCount;
- gRPC: `blockstore backup IMAGE --volume VOL` (the CLI as users run it: 2 streams,
  zstd level 1, repeats sent as references) into a new volume with 512 KiB chunks.
Prints MB/s of logical image bytes for each, wall and CPU seconds of client and server,
and the EBS/gRPC ratio. Both hash on both sides (EBS: SHA256 and BLAKE3 on the server).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

from bench.common import (BLOCKSTORE, MIB, REPO, Meter, ServerProc, make_image,  # noqa: E402
                          row)
from clients.sizes import parse_size  # noqa: E402

BLOCK = 512 << 10
GIB = 1 << 30
WIDTHS = [25, 6, 7, 11, 11, 9]


def start_ebs_server(data_dir: Path, *extra: str) -> tuple[ServerProc, str]:
    """`serve --ebs-listen`: (the process, the EBS endpoint URL)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([*BLOCKSTORE, "serve", "--data-dir", str(data_dir), "--listen",
                             "127.0.0.1:0", "--ebs-listen", "127.0.0.1:0", "--log-level",
                             "WARNING", *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=REPO)
    assert proc.stdout
    endpoint = ""
    for line in proc.stdout:
        if "EBS direct on " in line:
            endpoint = line.rsplit("EBS direct on ", 1)[1].split()[0]
        if "listening on " in line:
            address = line.rsplit("listening on ", 1)[1].split()[0]
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return ServerProc(proc, address, data_dir), endpoint
    raise RuntimeError("server did not start")


def cli(server: ServerProc, token: str, *args: str) -> dict:
    env = {**os.environ, "BLOCKSTORE_ADDRESS": server.address, "BLOCKSTORE_TOKEN": token}
    done = subprocess.run([*BLOCKSTORE, *args, "--json"], capture_output=True, text=True,
                          check=True, cwd=REPO, env=env)
    return json.loads(done.stdout)


def account(data_dir: Path, name: str) -> dict:
    out = subprocess.run([*BLOCKSTORE, "account", "create", name, "--data-dir",
                          str(data_dir), "--json"], capture_output=True, text=True,
                         check=True, cwd=REPO)
    return json.loads(out.stdout)


def ebs_client(endpoint: str, keys: dict, threads: int):
    session = boto3.session.Session(aws_access_key_id=keys["access_key_id"],
                                    aws_secret_access_key=keys["secret_access_key"],
                                    region_name="us-east-1")
    return session.client("ebs", endpoint_url=endpoint, config=Config(
        max_pool_connections=threads, retries={"max_attempts": 10, "mode": "standard"}))


def nonzero_blocks(image: Path) -> list[int]:
    with open(image, "rb") as f:
        return [i for i, data in enumerate(iter(lambda: f.read(BLOCK), b""))
                if data.count(0) != len(data)]


def ebs_upload(ebs, image: Path, indexes: list[int], threads: int) -> str:
    size_gib = -(-image.stat().st_size // GIB)
    sid = ebs.start_snapshot(VolumeSize=size_gib)["SnapshotId"]
    fd = os.open(image, os.O_RDONLY)

    def put(index: int) -> None:
        data = os.pread(fd, BLOCK, index * BLOCK).ljust(BLOCK, b"\0")
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        ebs.put_snapshot_block(SnapshotId=sid, BlockIndex=index, BlockData=data,
                               DataLength=BLOCK, Checksum=digest, ChecksumAlgorithm="SHA256")

    try:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(put, indexes))
    finally:
        os.close(fd)
    status = ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=len(indexes))["Status"]
    assert status == "completed", status
    return sid


def grpc_backup(server: ServerProc, token: str, image: Path) -> int:
    """A full `blockstore backup` into a new 512 KiB-chunk volume; bytes it sent."""
    size = -(-image.stat().st_size // BLOCK) * BLOCK
    vid = cli(server, token, "volume", "create", "--size", str(size), "--chunk-size",
              "512K")["volume"]["volume_id"]
    done = cli(server, token, "backup", str(image), "--volume", vid, "--no-progress")
    assert done["complete"], done
    return done["sent_bytes"]


def run(args: argparse.Namespace, image: Path, work: Path) -> None:
    size = image.stat().st_size
    fsync = ["--no-fsync"] if args.no_fsync else []
    server, endpoint = start_ebs_server(work / f"data-{os.getpid()}", *fsync)
    indexes = nonzero_blocks(image)
    print(f"image {size / MIB:.0f} MiB, {len(indexes)} non-zero 512 KiB blocks; "
          f"{args.threads} boto3 threads; fsync {'off' if args.no_fsync else 'on'}")
    print(row(["", "MB/s", "wall s", "client CPU", "server CPU", "sent MiB"], WIDTHS))
    ratios = []
    try:
        for n in range(args.rounds):
            figures = {}
            order = ("ebs", "grpc") if n % 2 == 0 else ("grpc", "ebs")
            for path in order:
                # A fresh account each time: nothing of the image is there to dedup against.
                keys = account(server.data_dir, f"bench-{n}-{path}")
                ebs = ebs_client(endpoint, keys, args.threads)
                with Meter(server) as m:
                    if path == "ebs":
                        ebs_upload(ebs, image, indexes, args.threads)
                        sent = len(indexes) * BLOCK
                    else:
                        sent = grpc_backup(server, keys["token"], image)
                figures[path] = size / m.wall / 1e6
                label = "EBS PutSnapshotBlock" if path == "ebs" else "gRPC blockstore backup"
                print(row([f"{label} #{n + 1}", f"{figures[path]:.0f}", f"{m.wall:.2f}",
                           f"{m.client_cpu:.2f}", f"{m.server_cpu:.2f}",
                           f"{sent / MIB:.0f}"], WIDTHS))
            ratios.append(figures["ebs"] / figures["grpc"])
    finally:
        server.stop()
    print("EBS / gRPC throughput: " + ", ".join(f"{r:.2f}" for r in ratios) +
          " (goal: at least 0.5; the gRPC figure includes the CLI process start)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="256M")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-fsync", action="store_true")
    parser.add_argument("--work", help="keep the image and data here (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ebs-") as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        image = make_image(work / "image.raw", parse_size(args.size))
        started = time.perf_counter()
        run(args, image, work)
        print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
