"""Blockstore's CLI against restic and borg on one job: full backup, incremental, restore.

    .venv/bin/python bench/compare.py [--size 1G] [--keep] [--plot FILE.svg]

Generates a VM-like image (bench/common.make_image) and a v2 with ~2% of its 1 MiB
blocks rewritten, then, in one run on this machine, with a warm page cache:
- ours: `blockstore backup` v1 (full) and v2 (incremental), `blockstore download` of v2,
  against `blockstore serve` on loopback with durability on (fsync);
- restic (`--compression auto`) and borg (`--compression zstd,3`, once with
  `--chunker-params fixed,1048576`, once with its default chunker): backup v1, backup v2,
  restore v2, each into a local repository (borg unencrypted; restic always encrypts).
Installs restic and borgbackup with apt-get if they are missing (this is not a test), and
byte-compiles our sources first, as an installed package has them (bench/common.py).
Prints MB/s of logical image bytes, wall and CPU seconds (children's rusage, plus the
server's CPU for ours), peak RSS (the client's VmHWM, polled; our server's shown apart),
bytes stored on disk, and our ratio to each peer. Figures on a shared machine
are noisy: run twice before reading much into a 10% difference. `--plot FILE.svg` also
draws the figures (bench/plot.py, matplotlib from the `bench` extra) and writes them as
FILE.json beside it; `--replot FILE.json` redraws from such a file without running.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (BLOCKSTORE, MIB, REPO, ServerProc, compile_sources,  # noqa: E402
                          create_account, disk_usage, make_image, mutate_image, row,
                          start_server, warm_memory)
from clients.sizes import parse_size  # noqa: E402

PHASES = ("full", "incremental", "restore")


@dataclass
class Measure:
    wall: float
    cpu: float
    rss_mib: float
    stdout: str = ""


@dataclass
class ToolResult:
    name: str
    phases: dict[str, Measure]
    stored: int
    identical: bool
    note: str = ""


def timed(cmd: list[str], env: dict | None = None, cwd: Path | None = None,
          server: ServerProc | None = None) -> Measure:
    """Run `cmd`; its wall time, CPU (its rusage, plus the server's) and peak RSS."""
    s0 = server.cpu_seconds() if server else 0.0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, cwd=cwd or REPO,
                                stdout=out, stderr=err)
        peak = HighWater(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)     # this child's own rusage
        wall = time.perf_counter() - t0
        peak.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): "
                               f"{err.read().decode()[-2000:]}")
        cpu = usage.ru_utime + usage.ru_stime + (server.cpu_seconds() - s0 if server else 0.0)
        return Measure(wall, cpu, peak.mib, out.read().decode())


class HighWater(threading.Thread):
    """A child's peak RSS, polled from /proc VmHWM (ru_maxrss of a child forked from this
    process would include this process's own memory at fork time)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.path, self.mib, self.done = f"/proc/{pid}/status", 0.0, threading.Event()
        self.start()

    def run(self) -> None:
        while not self.done.wait(0.02):
            try:
                with open(self.path) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            self.mib = max(self.mib, int(line.split()[1]) / 1024)
            except (OSError, ValueError):
                return

    def stop(self) -> None:
        self.done.set()
        self.join()


def ensure_tools() -> None:
    if shutil.which("restic") and shutil.which("borg"):
        return
    print("installing restic and borgbackup with apt-get ...", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-q", "restic", "borgbackup"], env=env).returncode:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "restic", "borgbackup"], env=env,
                       check=True)


def same(a: Path, b: Path) -> bool:
    return subprocess.run(["cmp", "-s", str(a), str(b)]).returncode == 0


def run_ours(v1: Path, v2: Path, work: Path) -> ToolResult:
    data = work / "blockstore-data"
    server = start_server(data)
    try:
        token = create_account(data, "bench")
        env = {"BLOCKSTORE_ADDRESS": server.address, "BLOCKSTORE_TOKEN": token}
        disk, out = work / "ours-disk.img", work / "ours-restored.img"
        cli = [*BLOCKSTORE]
        size = v1.stat().st_size
        vol = json.loads(subprocess.run(
            [*cli, "volume", "create", "--size", str(-(-size // 512) * 512), "--chunk-size", "1M",
             "--json"], env={**os.environ, **env}, capture_output=True, text=True, check=True,
            cwd=REPO).stdout)["volume"]["volume_id"]
        phases = {}
        shutil.copyfile(v1, disk)
        phases["full"] = timed([*cli, "backup", str(disk), "--volume", vol, "--json"], env,
                               server=server)
        shutil.copyfile(v2, disk)
        phases["incremental"] = timed([*cli, "backup", str(disk), "--volume", vol, "--json"],
                                      env, server=server)
        snap = json.loads(phases["incremental"].stdout)["snapshot_id"]
        phases["restore"] = timed([*cli, "download", "--snapshot", snap, str(out)], env,
                                  server=server)
        stored = disk_usage(data)
        note = f"server peak RSS {server.peak_rss_mib():.0f} MiB"
        return ToolResult("blockstore", phases, stored, same(out, v2), note)
    finally:
        server.stop()


def run_restic(v1: Path, v2: Path, work: Path) -> ToolResult:
    repo, disk, target = work / "restic-repo", work / "restic-src" / "disk.img", work / "restic-out"
    env = {"RESTIC_PASSWORD": "bench", "RESTIC_REPOSITORY": str(repo),
           "RESTIC_CACHE_DIR": str(work / "restic-cache")}
    disk.parent.mkdir()
    subprocess.run(["restic", "init", "-q"], env={**os.environ, **env}, check=True,
                   capture_output=True)
    backup = ["restic", "backup", "-q", "--compression", "auto", str(disk)]
    phases = {}
    shutil.copyfile(v1, disk)
    phases["full"] = timed(backup, env)
    shutil.copyfile(v2, disk)
    phases["incremental"] = timed(backup, env)
    phases["restore"] = timed(["restic", "restore", "-q", "latest",
                               "--target", str(target)], env)
    return ToolResult("restic", phases, disk_usage(repo),
                      same(target / disk.relative_to("/"), v2), _version(["restic", "version"]))


def run_borg(v1: Path, v2: Path, work: Path, name: str, chunker: list[str]) -> ToolResult:
    slug = name.replace(" ", "-")
    repo, src, target = work / f"{slug}-repo", work / f"{slug}-src", work / f"{slug}-out"
    env = {"BORG_BASE_DIR": str(work / f"{slug}-base"), "BORG_PASSPHRASE": "",
           "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes"}
    src.mkdir()
    target.mkdir()
    subprocess.run(["borg", "init", "--encryption", "none", str(repo)],
                   env={**os.environ, **env}, check=True, capture_output=True)
    create = ["borg", "create", "--compression", "zstd,3", *chunker]
    phases = {}
    shutil.copyfile(v1, src / "disk.img")
    phases["full"] = timed([*create, f"{repo}::v1", "disk.img"], env, cwd=src)
    shutil.copyfile(v2, src / "disk.img")
    phases["incremental"] = timed([*create, f"{repo}::v2", "disk.img"], env, cwd=src)
    phases["restore"] = timed(["borg", "extract", "--sparse", f"{repo}::v2"], env, cwd=target)
    return ToolResult(name, phases, disk_usage(repo), same(target / "disk.img", v2),
                      _version(["borg", "--version"]))


def _version(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]


WIDTHS = [22, 12, 8, 8, 8, 9, 10, 9]


def report(size: int, results: list[ToolResult]) -> None:
    print(f"\nimage {size / MIB:.0f} MiB; v2 has ~2% of 1 MiB blocks rewritten; "
          "MB/s of logical image bytes; CPU = client (+ server for blockstore)")
    print(row(["tool / phase", "MB/s", "wall s", "CPU s", "RSS MiB", "stored MiB", "identical",
               ""], WIDTHS))
    for r in results:
        for phase in PHASES:
            m = r.phases[phase]
            print(row([f"{r.name} {phase}", f"{size / m.wall / 1e6:.0f}", f"{m.wall:.2f}",
                       f"{m.cpu:.2f}", f"{m.rss_mib:.0f}",
                       f"{r.stored / MIB:.1f}" if phase == "full" else "",
                       str(r.identical) if phase == "restore" else "", ""], WIDTHS))
    for r in results:
        if r.note:
            print(f"  {r.name}: {r.note}")
    ours = results[0]
    print("\nblockstore ratio to each peer (MB/s ratio; stored: ours / theirs, lower is better)")
    print(row(["peer", *PHASES, "stored"], [22, 12, 12, 12, 12]))
    for r in results[1:]:
        ratios = [f"{r.phases[p].wall / ours.phases[p].wall:.2f}x" for p in PHASES]
        print(row([r.name, *ratios, f"{ours.stored / r.stored:.2f}x"], [22, 12, 12, 12, 12]))


def as_dict(size: int, results: list[ToolResult], title: str) -> dict:
    """The figures bench/plot.py draws (and FILE.json keeps)."""
    return {"size_bytes": size, "title": title, "tools": [
        {"name": r.name, "stored_bytes": r.stored, "identical": r.identical, "note": r.note,
         "phases": {p: {"wall": m.wall, "cpu": m.cpu, "rss_mib": m.rss_mib}
                    for p, m in r.phases.items()}} for r in results]}


def write_plot(result: dict, svg: Path) -> None:
    from bench.plot import plot_comparison
    svg.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    plot_comparison(result, svg)
    print(f"wrote {svg} and {svg.with_suffix('.json')}", file=sys.stderr)


def _title(size: int, note: str, load: float) -> str:
    return (f"{size / MIB:.0f} MiB VM-like image, v2 with ~2% of 1 MiB blocks rewritten; "
            f"one run on {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
            f"load average {load:.1f} at start{note}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size", default="1G", help="image size, e.g. 1G, 256M (default 1G)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--image-dir", type=Path, default=Path(tempfile.gettempdir()))
    p.add_argument("--only", default="", help="comma list of tools: blockstore,restic,borg")
    p.add_argument("--warm-gib", type=float, default=8.0,
                   help="touch this much fresh memory first, so no tool pays the VM's "
                        "first-touch cost for page cache inside its measurement (0: don't)")
    p.add_argument("--plot", type=Path, metavar="FILE.svg",
                   help="draw the figures as SVG (and write FILE.json beside it)")
    p.add_argument("--plot-note", default="",
                   help="appended to the figure's title, e.g. ', shared with other jobs'")
    p.add_argument("--replot", type=Path, metavar="FILE.json",
                   help="only redraw --plot from a FILE.json an earlier run wrote")
    args = p.parse_args()
    if args.replot:
        svg = args.plot or args.replot.with_suffix(".svg")
        write_plot(json.loads(args.replot.read_text()), svg)
        return
    size = parse_size(args.size)
    load = os.getloadavg()[0]              # other work on the machine skews every figure
    ensure_tools()
    compile_sources()
    v1 = make_image(args.image_dir / f"blockstore-bench-{size}.img", size)
    if args.warm_gib:
        took = warm_memory(args.warm_gib)
        print(f"warmed {args.warm_gib:g} GiB of memory in {took:.1f}s", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="blockstore-compare-", dir=args.image_dir))
    try:
        v2 = work / "v2.img"
        changed = mutate_image(v1, v2, 0.02)
        print(f"v2: {changed} of {-(-size // MIB)} 1 MiB blocks rewritten", file=sys.stderr)
        only = set(filter(None, args.only.split(","))) or {"blockstore", "restic", "borg"}
        results = []
        for tool, fn in (("blockstore", lambda: [run_ours(v1, v2, work)]),
                         ("restic", lambda: [run_restic(v1, v2, work)]),
                         ("borg", lambda: [
                             run_borg(v1, v2, work, "borg fixed 1M",
                                      ["--chunker-params", "fixed,1048576"]),
                             run_borg(v1, v2, work, "borg default", [])])):
            if tool in only:
                print(f"running {tool} ...", file=sys.stderr)
                results.extend(fn())
        report(size, results)
        if args.plot:
            write_plot(as_dict(size, results, _title(size, args.plot_note, load)), args.plot)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
