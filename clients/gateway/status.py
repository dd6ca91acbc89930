"""Gateway counters, the `--json-status` file (rewritten atomically every interval and
on SIGUSR1, which also prints one status line on stderr), and the stop signals."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger("blockstore.gateway")


@dataclass
class Stats:
    mode: str = "primary"
    volume_id: str = ""
    uri: str = ""
    cache_hits: int = 0
    cache_misses: int = 0
    cache_bytes: int = 0
    dirty_chunks: int = 0
    dirty_bytes: int = 0
    flushes: int = 0
    flush_errors: int = 0
    chunks_uploaded: int = 0
    shadow_backlog_chunks: int = 0
    shadow_backlog_bytes: int = 0
    bootstrap_done: bool = False
    snapshots_taken: int = 0
    last_error: str = ""

    def write(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), sort_keys=True) + "\n")
        os.replace(tmp, path)


class StatusReporter:
    """Owns SIGTERM/SIGINT (stop) and SIGUSR1 (report now) while the gateway serves."""

    def __init__(self, stats: Stats, path: Path | None, interval: float) -> None:
        self.stats, self.path, self.interval = stats, path, interval
        self.stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        loop.add_signal_handler(signal.SIGUSR1, self.report)

    def close(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
            loop.remove_signal_handler(sig)
        self.write()

    async def until_stopped(self) -> None:
        while not self.stop.is_set():
            self.write()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.interval)

    def report(self) -> None:
        self.write()
        print(f"blockstore: status {json.dumps(asdict(self.stats), sort_keys=True)}",
              file=sys.stderr, flush=True)

    def write(self) -> None:
        if self.path:
            try:
                self.stats.write(self.path)
            except OSError as err:
                log.warning("gateway: cannot write %s: %s", self.path, err.strerror)
