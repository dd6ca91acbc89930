"""Aggregate throughput of concurrent clients over 1, 2 and 3 data-plane processes that
share one PostgreSQL manifest and one SeaweedFS bucket, with CPU seconds per GiB of every
process tree; a phase of bench/scale_out.py (`--phase planes`).

For each plane count: a fresh database and key prefix (nothing to dedup against), one
`blockstore control-plane` and N `data-plane --advertise` processes; `clients` CLI
processes, each given only the control plane's address (they find the data planes
themselves), back up their own image at the same time (distinct seeds: no data shared),
then restore it. Aggregate MB/s = all clients' logical bytes / wall time from the first
start to the last exit. CPU of a process tree comes from /proc/<pid>/stat (user + system
of each live process in the tree, plus what its exited children left in cutime/cstime):
the data planes, the control plane, PostgreSQL (postmaster and its backends), SeaweedFS
(`weed server`: master, volume, filer and S3 gateway in one process) and the clients.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from pathlib import Path

from bench.common import BLOCKSTORE, MIB, REPO, make_image
from tests.backends import fresh_database
from tests.serverproc import ServerProcess

GIB = float(1 << 30)
TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def tree_cpu(root: int) -> float:
    """CPU seconds of `root` and its descendants, live or exited and reaped."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))):
            parents[int(entry)] = int(fields[1])
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    total = 0
    for pid in tree:
        if fields := _stat(pid):
            total += sum(int(f) for f in fields[11:15])    # utime stime cutime cstime
    return total / TICK


def clients_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cli(env: dict, *args: str) -> str:
    done = subprocess.run([*BLOCKSTORE, *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **env}, timeout=600)
    if done.returncode:
        raise RuntimeError(f"blockstore {' '.join(args)}: {done.stderr}")
    return done.stdout


def _concurrently(env: dict, commands: list[list[str]]) -> tuple[float, list[str]]:
    started = time.perf_counter()
    outs = []
    procs = [subprocess.Popen([*BLOCKSTORE, *c], cwd=REPO, env={**os.environ, **env},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for c in commands]
    for proc, command in zip(procs, commands):
        out, err = proc.communicate(timeout=1800)
        if proc.returncode:
            raise RuntimeError(f"blockstore {' '.join(command)}: {err}")
        outs.append(out)
    return time.perf_counter() - started, outs


class Meters:
    """CPU seconds per named process tree between `start` and `stop`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def read(self) -> dict[str, float]:
        now = {name: tree_cpu(pid) for name, pid in self.pids.items()}
        now["clients"] = clients_cpu()
        return now

    def delta(self, before: dict[str, float]) -> dict[str, float]:
        after = self.read()
        return {name: after[name] - before[name] for name in before}


def run_planes(root: Path, pg, weed, planes: int, clients: int, size: int) -> dict:
    images = [make_image(root / f"client{i}.raw", size, seed=10 + i) for i in range(clients)]
    db, chunks = fresh_database(pg), weed.url("bench", f"planes{planes}-{time.time_ns()}")
    env = weed.env()
    procs = [ServerProcess(["control-plane", "--db", db, "--listen", "127.0.0.1:0",
                            "--log-level", "WARNING"], env=env).start()]
    try:
        for _ in range(planes):
            port = _free_port()
            procs.append(ServerProcess(["data-plane", "--db", db, "--chunks", chunks,
                                        "--listen", f"127.0.0.1:{port}",
                                        "--advertise", f"127.0.0.1:{port}",
                                        "--log-level", "WARNING"], env=env).start())
        token = json.loads(_cli(env, "account", "create", f"planes{planes}", "--db", db,
                                "--json"))["token"]
        cenv = {**env, "BLOCKSTORE_ADDRESS": procs[0].address, "BLOCKSTORE_TOKEN": token}
        vids = [json.loads(_cli(cenv, "volume", "create", "--size", str(size), "--json"))
                ["volume"]["volume_id"] for _ in images]
        pids = {"control plane": procs[0].proc.pid, "postgresql": postmaster(pg),
                "seaweedfs": weed.proc.pid}
        pids.update({f"data plane {i + 1}": p.proc.pid for i, p in enumerate(procs[1:])})
        meters = Meters(pids)
        total = size * clients
        result = {}
        before = meters.read()
        secs, outs = _concurrently(cenv, [["backup", str(img), "--volume", vid, "--json",
                                           "--no-progress"] for img, vid in zip(images, vids)])
        result["backup"] = (total / secs / 1e6, meters.delta(before))
        snaps = [json.loads(out)["snapshot_id"] for out in outs]
        before = meters.read()
        secs, _ = _concurrently(cenv, [["download", "--snapshot", s, str(root / f"out{i}.img"),
                                     "--no-progress"] for i, s in enumerate(snaps)])
        result["restore"] = (total / secs / 1e6, meters.delta(before))
        for i, img in enumerate(images):
            if (root / f"out{i}.img").read_bytes() != img.read_bytes():
                raise RuntimeError(f"client {i}'s restore differs from its image")
        return {phase: (mbs, {k: v / (total / GIB) for k, v in cpu.items()})
                for phase, (mbs, cpu) in result.items()}
    finally:
        for proc in procs:
            proc.stop()


def postmaster(pg) -> int:
    return int((pg.data / "postmaster.pid").read_text().split()[0])


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def print_planes(results: dict[int, dict], clients: int, size: int) -> None:
    print(f"\nAggregate over data planes (PostgreSQL + SeaweedFS shared; {clients} clients, "
          f"{size / MIB:.0f} MiB image each; CPU seconds per GiB of logical bytes)")
    for phase in ("backup", "restore"):
        names = sorted({n for r in results.values() for n in r[phase][1]},
                       key=lambda n: (not n.startswith("data plane"), n))
        print(f"\n{phase:8} {'MB/s':>7} " + " ".join(f"{n:>13}" for n in names))
        for planes, r in sorted(results.items()):
            mbs, cpu = r[phase]
            cells = " ".join(f"{cpu[n]:13.1f}" if n in cpu else f"{'-':>13}" for n in names)
            print(f"{planes} plane{'s' if planes > 1 else ' '} {mbs:7.1f} {cells}")
