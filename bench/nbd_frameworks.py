"""Which NBD server framework for the gateway: our asyncio server vs nbdkit's Python plugin.

Both serve the same local file with plain pread (the gateway in shadow mode, whose READs
are one inline pread; nbdkit with a 15-line Python plugin, parallel thread model), and
`nbdkit file` shows the C floor. fio 4 KiB random reads at queue depth 1 and 32.
Prints one table; never fails on timing.
Usage: .venv/bin/python bench/nbd_frameworks.py [--size 256M] [--runtime 6]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BLOCKSTORE, REPO, create_account, start_server  # noqa: E402
from bench.gateway import Gateway, NbdkitFile, fio, free_port  # noqa: E402
from clients.sizes import parse_size  # noqa: E402

PLUGIN = '''
import os
import nbdkit
API_VERSION = 2
def thread_model():
    return nbdkit.THREAD_MODEL_PARALLEL
def open(readonly):
    return os.open(os.environ["BENCH_FILE"], os.O_RDWR)
def get_size(h):
    return os.fstat(h).st_size
def pread(h, buf, offset, flags):
    buf[:] = os.pread(h, len(buf), offset)
def pwrite(h, buf, offset, flags):
    os.pwrite(h, buf, offset)
'''


class NbdkitPython(NbdkitFile):
    def __init__(self, path: Path, plugin: Path, port: int) -> None:
        self.uri = f"nbd://127.0.0.1:{port}"
        env = {**os.environ, "BENCH_FILE": str(path)}
        self.proc = subprocess.Popen(["nbdkit", "-f", "-i", "127.0.0.1", "-p", str(port),
                                      "python", str(plugin)], env=env)
        self._wait()

    def _wait(self) -> None:
        for _ in range(200):
            if subprocess.run(["nbdinfo", "--size", self.uri], capture_output=True).returncode == 0:
                return
            subprocess.run(["sleep", "0.05"])
        raise RuntimeError("nbdkit did not start")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size", type=parse_size, default=256 << 20)
    p.add_argument("--runtime", type=int, default=6)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="blockstore-bench-nbd-") as work:
        run(args, Path(work))


def run(args, work: Path) -> None:
    local, plugin = work / "disk.img", work / "plugin.py"
    local.write_bytes(os.urandom(args.size))
    plugin.write_text(PLUGIN)
    server = start_server(work / "data")
    servers = {}
    try:
        env = {**os.environ, "BLOCKSTORE_ADDRESS": server.address,
               "BLOCKSTORE_TOKEN": create_account(work / "data", "bench")}
        out = subprocess.run([*BLOCKSTORE, "volume", "create", "--size", str(args.size), "--json"],
                             env=env, capture_output=True, text=True, check=True, cwd=REPO)
        volume = json.loads(out.stdout)["volume"]["volume_id"]
        servers["gateway (asyncio, shadow)"] = Gateway(env, volume, work / "cache",
                                                       "--shadow", str(local))
        servers["nbdkit python plugin"] = NbdkitPython(local, plugin, free_port())
        servers["nbdkit file (C)"] = NbdkitFile(local, free_port())
        rows = []
        for qd in (1, 32):
            row = [f"rand read 4K QD{qd}"]
            for srv in servers.values():
                row.append(fio(srv.uri, "r", "randread", "4k", qd, args.runtime, args.size)["iops"])
            rows.append(row)
            print("  " + " | ".join(f"{c:,.0f}" if isinstance(c, float) else c for c in row),
                  flush=True)
    finally:
        for srv in servers.values():
            srv.stop()
        server.stop()
    print(f"\nIOPS, {os.cpu_count()} CPUs, loopback, file in the page cache")
    print("| job | " + " | ".join(servers) + " |")
    print("|---|" + "---:|" * len(servers))
    for row in rows:
        print(f"| {row[0]} | " + " | ".join(f"{v:,.0f}" for v in row[1:]) + " |")


if __name__ == "__main__":
    main()
