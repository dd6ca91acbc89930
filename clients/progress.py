"""A progress bar (bytes, rate, ETA) on a terminal's stderr, and nothing elsewhere.

`rich` draws it (a dependency of the client). Scripts (stderr not a TTY), `--json` and
`--no-progress` see no progress output at all. Rule: the bar never takes stdout over;
what a command prints there while the bar runs stays on stdout, so
`snap=$(blockstore backup ...)` captures it on a terminal as well.
"""

from __future__ import annotations

import sys


def progress_bar(total: int, label: str, stream=None, enabled: bool | None = None):
    stream = stream or sys.stderr
    if enabled is None:
        enabled = stream.isatty()
    return RichBar(total, label, stream) if enabled else NoBar()


class NoBar:
    def advance(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RichBar(NoBar):
    def __init__(self, total: int, label: str, stream) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                   TimeRemainingColumn, TransferSpeedColumn)
        # rich redirects stdout into its console by default: ours is on stderr, so a line
        # meant for stdout would land on the terminal and not in a caller's $(...).
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                  DownloadColumn(binary_units=True), TransferSpeedColumn(),
                                  TimeRemainingColumn(), console=Console(file=stream),
                                  transient=False, redirect_stdout=False)
        self._task = self._progress.add_task(label, total=total)
        self._progress.start()

    def advance(self, n: int) -> None:
        self._progress.advance(self._task, n)

    def close(self) -> None:
        self._progress.stop()
