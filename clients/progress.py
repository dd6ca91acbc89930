"""A progress bar (bytes, rate, ETA) on a terminal's stderr, and nothing elsewhere.

`rich` draws it when installed; otherwise one carriage-return line, redrawn at most ten
times a second. Scripts (stderr not a TTY) see no progress output at all.
"""

from __future__ import annotations

import sys
import time


def progress_bar(total: int, label: str, stream=None, enabled: bool | None = None):
    stream = stream or sys.stderr
    if enabled is None:
        enabled = stream.isatty()
    if not enabled:
        return NoBar()
    try:
        return RichBar(total, label, stream)
    except ImportError:
        return LineBar(total, label, stream)


class NoBar:
    def advance(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LineBar(NoBar):
    """`backup  42% 430.1/1024.0 MiB  312 MB/s  ETA 0:02` on one line."""

    def __init__(self, total: int, label: str, stream) -> None:
        self.total, self.label, self.stream = max(total, 1), label, stream
        self.done, self.started, self.drawn = 0, time.monotonic(), 0.0

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.drawn >= 0.1 or self.done >= self.total:
            self.drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-6)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate else 0
        self.stream.write(f"\r{self.label} {min(self.done / self.total, 1):4.0%} "
                          f"{self.done / 2**20:.1f}/{self.total / 2**20:.1f} MiB "
                          f"{rate / 1e6:5.0f} MB/s  ETA {int(eta) // 60}:{int(eta) % 60:02d} ")
        self.stream.flush()

    def close(self) -> None:
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()


class RichBar(NoBar):
    def __init__(self, total: int, label: str, stream) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                   TimeRemainingColumn, TransferSpeedColumn)
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                  DownloadColumn(binary_units=True), TransferSpeedColumn(),
                                  TimeRemainingColumn(), console=Console(file=stream),
                                  transient=False)
        self._task = self._progress.add_task(label, total=total)
        self._progress.start()

    def advance(self, n: int) -> None:
        self._progress.advance(self._task, n)

    def close(self) -> None:
        self._progress.stop()
