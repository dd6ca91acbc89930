"""fio over NBD: `blockstore gateway` (primary mode) beside `nbdkit file` on a local file.

Jobs (each against both exports in the same run):
- 1 MiB sequential write with a FLUSH every 64 MiB (fio fsync=64), MB/s;
- 1 MiB sequential read, MB/s (the gateway's cache is warm from the writes);
- 4 KiB random read, cold (a fresh gateway with an empty cache, one read per chunk on
  average) and warm, at queue depth 1 and 32, IOPS;
- 4 KiB random write at queue depth 1 and 32, IOPS (every write durable in the gateway's
  log before its reply; nbdkit file writes to the page cache);
- and, for scale, the service alone committing 64 MiB in one UploadBlocks stream: the
  ceiling of a FLUSH-bound sequential write through any gateway.

The server runs with fsync on, on loopback. Prints one table; never fails on timing.
Usage: .venv/bin/python bench/gateway.py [--size 256M] [--chunk-size 1M] [--runtime 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BLOCKSTORE, REPO, create_account, start_server  # noqa: E402
from clients.sizes import parse_size  # noqa: E402


def fio(uri: str, name: str, rw: str, bs: str, qd: int, runtime: int, size: int,
        **extra: str) -> dict:
    args = ["fio", "--name", name, "--ioengine=nbd", f"--uri={uri}", f"--rw={rw}",
            f"--bs={bs}", f"--iodepth={qd}", f"--size={size}", "--output-format=json",
            "--randrepeat=0", "--norandommap"]
    if runtime:
        args += ["--time_based", f"--runtime={runtime}"]
    args += [f"--{k}={v}" for k, v in extra.items()]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    job = json.loads(out[out.index("{"):])["jobs"][0]
    side = job["read"] if "read" in rw else job["write"]
    return {"iops": side["iops"], "mbs": side["bw_bytes"] / 1e6}


class Gateway:
    def __init__(self, env: dict, volume: str, cache: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [*BLOCKSTORE, "gateway", "--volume", volume, "--listen", "127.0.0.1:0",
             "--cache-dir", str(cache), "--cache-size", "2G", *extra],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
        for line in self.proc.stdout:
            if "gateway serving " in line:
                self.uri = line.split("gateway serving ", 1)[1].strip()
                return
        raise RuntimeError("gateway did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(120)


class NbdkitFile:
    def __init__(self, path: Path, port: int) -> None:
        self.uri = f"nbd://127.0.0.1:{port}"
        self.proc = subprocess.Popen(["nbdkit", "-f", "-i", "127.0.0.1", "-p", str(port),
                                      "file", str(path)])
        for _ in range(200):
            if subprocess.run(["nbdinfo", "--size", self.uri], capture_output=True).returncode == 0:
                return
            subprocess.run(["sleep", "0.05"])
        raise RuntimeError("nbdkit did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jobs(size: int, chunk: int, runtime: int) -> list[tuple[str, str, dict]]:
    """(label, unit, fio kwargs); 'cold' jobs run on a fresh gateway first."""
    chunks = size // chunk
    return [
        ("seq write 1M, FLUSH/64M", "MB/s", dict(rw="write", bs="1M", qd=8, runtime=0, fsync="64")),
        ("seq read 1M", "MB/s", dict(rw="read", bs="1M", qd=8, runtime=0)),
        ("rand read 4K QD1 cold", "IOPS", dict(rw="randread", bs="4k", qd=1, runtime=0,
                                               number_ios=str(chunks))),
        ("rand read 4K QD1 warm", "IOPS", dict(rw="randread", bs="4k", qd=1, runtime=runtime)),
        ("rand read 4K QD32 warm", "IOPS", dict(rw="randread", bs="4k", qd=32, runtime=runtime)),
        ("rand write 4K QD1", "IOPS", dict(rw="randwrite", bs="4k", qd=1, runtime=runtime)),
        ("rand write 4K QD32", "IOPS", dict(rw="randwrite", bs="4k", qd=32, runtime=runtime)),
    ]


def measure(uri: str, label: str, unit: str, spec: dict, size: int) -> float:
    spec = dict(spec)
    result = fio(uri, label.split()[0], spec.pop("rw"), spec.pop("bs"), spec.pop("qd"),
                 spec.pop("runtime"), size, **spec)
    return result["mbs"] if unit == "MB/s" else result["iops"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size", type=parse_size, default=256 << 20)
    p.add_argument("--chunk-size", type=parse_size, default=1 << 20)
    p.add_argument("--runtime", type=int, default=8, help="seconds per timed job")
    args = p.parse_args()
    for tool in ("fio", "nbdkit", "nbdinfo"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: scripts/setup.sh --test installs it")
    with tempfile.TemporaryDirectory(prefix="blockstore-bench-gw-") as work:
        run(args, Path(work))


def run(args, work: Path) -> None:
    server = start_server(work / "data")
    try:
        token = create_account(work / "data", "bench")
        env = {**os.environ, "BLOCKSTORE_ADDRESS": server.address, "BLOCKSTORE_TOKEN": token}
        out = subprocess.run([*BLOCKSTORE, "volume", "create", "--size", str(args.size),
                              "--chunk-size", str(args.chunk_size), "--json"], env=env,
                             capture_output=True, text=True, check=True, cwd=REPO).stdout
        volume = json.loads(out)["volume"]["volume_id"]
        local = work / "local.img"
        with open(local, "wb") as f:
            f.truncate(args.size)
        nbdkit = NbdkitFile(local, free_port())
        results = []
        gw = Gateway(env, volume, work / "cache-a")
        try:
            for n, (label, unit, spec) in enumerate(jobs(args.size, args.chunk_size, args.runtime)):
                if "cold" in label:          # a fresh gateway: empty cache, new identity
                    gw.stop()
                    gw = Gateway(env, volume, work / f"cache-{n}")
                ours = measure(gw.uri, label, unit, spec, args.size)
                theirs = measure(nbdkit.uri, label, unit, spec, args.size)
                results.append((label, unit, ours, theirs))
                print(f"  {label}: gateway {ours:,.0f} {unit}, nbdkit file {theirs:,.0f} {unit}",
                      flush=True)
        finally:
            gw.stop()
            nbdkit.stop()
        results.append(("service alone: one 64 MiB UploadBlocks commit", "MB/s",
                        asyncio.run(service_commit_rate(env, args.size, args.chunk_size)), 0.0))
        print_table(args, results)
    finally:
        server.stop()


async def service_commit_rate(env: dict, size: int, chunk: int) -> float:
    """What a FLUSH can at best do here: the service committing 64 MiB in one stream."""
    from clients.aio import AsyncClient
    from clients.gateway.remote import Layout, RemoteVolume
    async with AsyncClient(env["BLOCKSTORE_ADDRESS"], env["BLOCKSTORE_TOKEN"]) as client:
        volume, _ = await client.create_volume(size, chunk)
        remote = RemoteVolume(client, volume.volume_id, Layout(size, chunk))
        count = min(64 << 20, size) // chunk
        chunks = {i: os.urandom(chunk) for i in range(count)}
        started = time.monotonic()
        await remote.commit(chunks)
        return count * chunk / (time.monotonic() - started) / 1e6


def print_table(args, results) -> None:
    print(f"\nvolume {args.size >> 20} MiB, chunk {args.chunk_size >> 10} KiB, "
          f"server fsync on, loopback, {os.cpu_count()} CPUs")
    print("| job | unit | gateway | nbdkit file | gateway / nbdkit |")
    print("|---|---|---:|---:|---:|")
    for label, unit, ours, theirs in results:
        ratio = ours / theirs if theirs else float("nan")
        if not theirs:
            print(f"| {label} | {unit} | {ours:,.0f} | - | - |")
            continue
        print(f"| {label} | {unit} | {ours:,.0f} | {theirs:,.0f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
