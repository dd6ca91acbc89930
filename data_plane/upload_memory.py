"""One byte budget for the block data that all upload streams of a process hold at once.

Why: `upload_window` bounds one stream and the stream caps bound how many there are,
but their product (64 streams x 8 blocks x up to 4 MiB, doubled while a block is
decoded or compressed) is gigabytes. Every data block charges its wire bytes plus its
length (the plain copy) from `DataPlaneConfig.upload_memory` before it is checked and
stored, and gives them back when its chunk is stored (or the stream fails). A stream
that finds the budget spent stops reading its gRPC stream until some bytes come back,
so HTTP/2 flow control holds the rest at the client. Streams never wait for each other
in a cycle: what a stream holds is returned by its own storing tasks, which never wait
for the budget.
"""

from __future__ import annotations

import asyncio
from collections import deque


class UploadMemory:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"upload memory must be >= 1 byte, got {limit}")
        self.limit, self.used = limit, 0
        self._waiters: deque[tuple[int, asyncio.Future]] = deque()

    def try_acquire(self, n: int) -> int | None:
        """Charge `n` bytes (at most the whole budget) if they fit now, else None."""
        n = min(n, self.limit)
        if self._waiters or self.used + n > self.limit:
            return None
        self.used += n
        return n

    async def acquire(self, n: int) -> int:
        """Wait until `n` bytes (at most the whole budget) fit; returns what was charged."""
        charged = self.try_acquire(n)
        if charged is not None:
            return charged
        n = min(n, self.limit)
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((n, waiter))
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release(n)           # granted just as we were cancelled
            else:
                if (n, waiter) in self._waiters:
                    self._waiters.remove((n, waiter))
                self._wake()
            raise
        return n

    def release(self, n: int) -> None:
        self.used -= n
        self._wake()

    def _wake(self) -> None:
        """Grant waiters in arrival order while the first one fits (no overtaking)."""
        while self._waiters and self.used + self._waiters[0][0] <= self.limit:
            n, waiter = self._waiters.popleft()
            if not waiter.done():
                self.used += n
                waiter.set_result(None)
