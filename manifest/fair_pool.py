"""A first-come, first-served pool of read connections.

Owns `FairPool`. Rule: a returned connection goes to the longest waiter first, never
to the task that returned it.

Why not an `asyncio.Queue`: a task that puts a connection back and at once asks for
one again takes it before the waiter that `put` woke gets to run (the queue is not
empty when it looks), and that waiter goes to the back of the line. A few calls that
read in a tight loop (a download walking a huge sparse range, one batch of rows at a
time) then kept every connection and starved all other reads: other accounts'
GetVolume timed out while health said SERVING. Here a returned connection goes
straight to the longest waiter, so a reader waits for at most one turn of each
connection per caller ahead of it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class FairPool(Generic[T]):
    def __init__(self, items: list[T]) -> None:
        self._free: deque[T] = deque(items)
        self._waiters: deque[asyncio.Future[T]] = deque()

    async def get(self) -> T:
        if self._free and not self._waiters:
            return self._free.popleft()
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.put(waiter.result())     # handed over just as we were cancelled
            else:
                self._waiters.remove(waiter)
            raise

    def put(self, item: T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        self._free.append(item)
