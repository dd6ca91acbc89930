"""A control plane and N data-plane processes with `--advertise` over one manifest and one
chunk store, on loopback; each data plane serves /metrics so tests see where streams went."""

from __future__ import annotations

import re
import socket
import urllib.request
from dataclasses import dataclass, field

from blockstore.urls import file_url, sqlite_url
from tests.observe import until
from tests.serverproc import ServerProcess

UPLOADS_OK = ('blockstore_rpc_total{code="OK",method="UploadBlocks",'
              'service="DataPlaneService"}')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics_url(proc: ServerProcess) -> str:
    def found():
        for line in proc.output:
            if m := re.search(r"metrics on (http://\S+/metrics)", line):
                return m.group(1)
        return None
    return until(found, "the server printed its metrics address")


def scrape(proc: ServerProcess, name: str) -> float:
    return scrape_url(metrics_url(proc), name)


def scrape_url(url: str, name: str) -> float:
    """The value of one sample at a /metrics URL (0 when the server has none yet)."""
    with urllib.request.urlopen(url, timeout=10) as reply:
        for line in reply.read().decode().splitlines():
            sample, _, value = line.rpartition(" ")
            if sample == name:
                return float(value)
    return 0.0


@dataclass
class Cluster:
    db: str
    chunks: str
    control: ServerProcess | None = None
    planes: list[ServerProcess] = field(default_factory=list)
    common: tuple[str, ...] = ()            # flags every process takes (TLS)
    env: dict[str, str] = field(default_factory=dict)   # S3 credentials

    def add_plane(self, *extra: str) -> ServerProcess:
        port = free_port()
        plane = ServerProcess(["data-plane", "--db", self.db, "--chunks", self.chunks,
                               "--listen", f"127.0.0.1:{port}",
                               "--advertise", f"127.0.0.1:{port}",
                               "--metrics-listen", "127.0.0.1:0", *self.common,
                               *extra], env=self.env).start()
        self.planes.append(plane)
        return plane

    def stop(self) -> None:
        for proc in [*self.planes, self.control]:
            if proc:
                proc.stop()


def start_cluster(root, planes: int, *extra: str, common: tuple[str, ...] = (),
                  stores=None) -> Cluster:
    """`stores`: a tests/backends.py StorePair; default SQLite + a chunk directory."""
    if stores is None:
        cluster = Cluster(sqlite_url(root / "manifest.db"), file_url(root / "chunks"),
                          common=common)
    else:
        cluster = Cluster(stores.db, stores.chunks, common=common, env=stores.env)
    try:
        cluster.control = ServerProcess(["control-plane", "--db", cluster.db,
                                         "--listen", "127.0.0.1:0", *common],
                                        env=cluster.env).start()
        for _ in range(planes):
            cluster.add_plane(*extra)
    except BaseException:
        cluster.stop()
        raise
    return cluster
