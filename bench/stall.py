"""A GetVolume loop beside a measured operation: how long other calls stall meanwhile.

A thread with its own gRPC channel calls GetVolume every `pause_s` and records each
latency, and samples the server's resident memory, until the block ends. The server's
event loop is shared by every call, so a query that blocks it shows up here as p99.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import grpc

from blockstore.v1 import control_plane_pb2 as cp
from blockstore.v1 import control_plane_pb2_grpc as cp_grpc


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Stall:
    """`with Stall(...) as s: op()`; then s.p50, s.p99 (ms) and s.peak_rss (MiB)."""

    def __init__(self, address: str, token: str, volume_id: str, server_pid: int,
                 pause_s: float = 0.01) -> None:
        self.address, self.volume_id, self.pid, self.pause_s = address, volume_id, \
            server_pid, pause_s
        self.metadata = (("authorization", f"Bearer {token}"),)
        self.latencies: list[float] = []
        self.start_rss = self.peak_rss = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> "Stall":
        self.start_rss = self.peak_rss = rss_mib(self.pid)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        with grpc.insecure_channel(self.address) as channel:
            stub = cp_grpc.ControlPlaneServiceStub(channel)
            req = cp.GetVolumeRequest(volume_id=self.volume_id)
            while not self._stop.is_set():
                t0 = time.perf_counter()
                stub.GetVolume(req, metadata=self.metadata, timeout=120)
                self.latencies.append((time.perf_counter() - t0) * 1000)
                self.peak_rss = max(self.peak_rss, rss_mib(self.pid))
                self._stop.wait(self.pause_s)

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1]

    @property
    def summary(self) -> str:
        return (f"{self.percentile(50):.1f}/{self.percentile(99):.1f} ms "
                f"(n={len(self.latencies)})")
