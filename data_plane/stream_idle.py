"""The messages of a client stream, each awaited for at most `idle_s` seconds.

Why: an UploadBlocks stream that stops sending holds its upload slot, its memory and
its chunks-in-flight for as long as the client keeps the connection; with no bound, a
few stalled clients starve everyone (the slot cap refuses all other streams). A stream
silent for longer than the idle timeout ends with `StreamIdle` and commits nothing.
Time the server spends on a message (hashing, storing) does not count: only the wait
for the client's next message does.
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, TypeVar

from blockstore.errors import StreamIdle

T = TypeVar("T")


class IdleBounded:
    """Iterate it once; set `name` (for the error message) once the stream is known."""

    def __init__(self, messages: AsyncIterator[T], idle_s: float,
                 name: str = "the stream") -> None:
        self._it, self.idle_s, self.name, self.count = aiter(messages), idle_s, name, 0

    async def next(self) -> T | None:
        """The next message, None at the end of the stream."""
        try:
            # asyncio.timeout, not wait_for: no task per message (streams of thousands
            # of small messages spend their time here).
            async with asyncio.timeout(self.idle_s):
                msg = await anext(self._it)
        except StopAsyncIteration:
            return None
        except TimeoutError:
            raise StreamIdle(f"{self.name} sent no message for {self.idle_s:g} s after "
                             f"{self.count}; it was closed and nothing was written",
                             idle_timeout_s=self.idle_s) from None
        self.count += 1
        return msg

    async def __aiter__(self) -> AsyncIterator[T]:
        while (msg := await self.next()) is not None:
            yield msg
