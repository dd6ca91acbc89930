"""Per-account caps on concurrent upload streams within one data-plane process.

Why: every open UploadBlocks stream pins up to `upload_window` chunks of memory and a
share of the worker threads, so one account opening hundreds of streams would starve
the others; a total cap over all accounts bounds the process's upload memory. The caps
are per process (a deployment with N data-plane processes allows N
times as many), needs no coordination, and is released however a stream ends (commit,
error, cancellation, deadline, shutdown). A refused stream gets RESOURCE_EXHAUSTED with
a RetryInfo; clients back off and retry.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import Iterator

from blockstore.errors import TooManyUploadStreams


class StreamSlots:
    def __init__(self, per_account: int, retry_after_s: float, total: int = 0) -> None:
        """`total` (0: no limit) caps the process's open streams over all accounts, which
        bounds its upload memory however many accounts there are."""
        self.per_account, self.retry_after_s, self.total = per_account, retry_after_s, total
        self._open: Counter[str] = Counter()

    def open_for(self, account_id: str) -> int:
        return self._open[account_id]

    @contextmanager
    def hold(self, account_id: str) -> Iterator[None]:
        """One slot for the duration of a stream (event-loop only: no lock needed)."""
        open_now = sum(self._open.values())
        if self.total and open_now >= self.total:
            raise TooManyUploadStreams(
                f"this data-plane process has {open_now} upload streams open, its limit; "
                f"account {account_id} should retry later",
                retry_after_s=self.retry_after_s, limit=self.total)
        if self._open[account_id] >= self.per_account:
            raise TooManyUploadStreams(
                f"account {account_id} already has {self._open[account_id]} upload streams "
                f"open on this data-plane process; at most {self.per_account}: retry later",
                retry_after_s=self.retry_after_s, limit=self.per_account)
        self._open[account_id] += 1
        try:
            yield
        finally:
            self._open[account_id] -= 1
            if not self._open[account_id]:
                del self._open[account_id]
