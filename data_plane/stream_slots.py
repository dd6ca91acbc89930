"""Per-account caps on concurrent upload streams within one data-plane process.

Why: every open UploadBlocks stream pins up to `upload_window` chunks of memory and a
share of the worker threads, so one account opening hundreds of streams would starve
the others; a total cap over all accounts bounds the process's upload memory. The caps
are per process (a deployment with N data-plane processes allows N
times as many), needs no coordination, and is released however a stream ends (commit,
error, cancellation, deadline, shutdown). A refused stream gets RESOURCE_EXHAUSTED with
a RetryInfo; clients back off and retry.

Share of the total: the last quarter of it only goes to an account's first stream, so
a few accounts can never take every slot (with the defaults, 64 and 16 per account,
three accounts at their cap leave 16 slots that only newcomers can take).
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

    def reserve(self) -> int:
        """Slots of the total kept for accounts' first streams: with them taken by a few
        accounts' second, third ... streams, a newcomer would find no slot at all."""
        return self.total // 4

    @contextmanager
    def hold(self, account_id: str) -> Iterator[None]:
        """One slot for the duration of a stream (event-loop only: no lock needed)."""
        open_now, mine = sum(self._open.values()), self._open[account_id]
        if self.total and open_now >= self.total - (self.reserve() if mine else 0):
            raise TooManyUploadStreams(
                f"this data-plane process has {open_now} upload streams open, its limit "
                f"for account {account_id}, which has {mine}; retry later",
                retry_after_s=self.retry_after_s, limit=self.total)
        if mine >= self.per_account:
            raise TooManyUploadStreams(
                f"account {account_id} already has {mine} upload streams "
                f"open on this data-plane process; at most {self.per_account}: retry later",
                retry_after_s=self.retry_after_s, limit=self.per_account)
        self._open[account_id] += 1
        try:
            yield
        finally:
            self._open[account_id] -= 1
            if not self._open[account_id]:
                del self._open[account_id]
