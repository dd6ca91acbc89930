"""The batches of one upload stream's data blocks: when each is handed off, how many
are in flight, and the process-wide byte budget they hold (data_plane/upload.py says
why blocks go in batches).

Rules kept:
- every data block charges `UploadMemory` before it joins the open batch; the batch's
  bytes come back when it is stored, fails, or the stream aborts;
- the open batch is handed off before the stream waits for budget: bytes it holds come
  back only once stored, so a stream waiting on its own unsent batch would wait forever;
- a batch is handed off when it holds `batch_bytes` of plain data or `batch_blocks`
  blocks, or at once when none of the stream's batches is in flight (a slow client's
  blocks are not held back);
- at most `window` batches are in flight; the first failure is raised to the stream at
  its next block, or by `finish`.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from data_plane.blocks import BlockIn
from data_plane.upload_memory import UploadMemory

Item = tuple[BlockIn, int]                  # a data block and its row slot
StoreBatch = Callable[[list[Item]], Awaitable[None]]


class Batches:
    def __init__(self, store: StoreBatch, memory: UploadMemory, window: int,
                 batch_bytes: int, batch_blocks: int) -> None:
        self._store, self._memory = store, memory
        self._window, self._batch_bytes, self._batch_blocks = window, batch_bytes, batch_blocks
        self._tasks: list[asyncio.Task] = []
        self._in_flight = 0
        self._slot_free = asyncio.Event()
        self._open: list[Item] = []
        self._held = self._bytes = 0                 # the open batch's budget, plain bytes

    async def add(self, block: BlockIn, slot: int) -> None:
        self._raise_failures()
        wanted = len(block.data) + block.length       # wire bytes plus the plain copy
        held = self._memory.try_acquire(wanted)
        if held is None:
            await self._launch()
            held = await self._memory.acquire(wanted)
        self._open.append((block, slot))
        self._held += held
        self._bytes += block.length
        if self._in_flight == 0:
            self._start()
        elif self._bytes >= self._batch_bytes or len(self._open) >= self._batch_blocks:
            await self._launch()

    async def finish(self) -> None:
        """Hand off the open batch and wait for every batch; raises the first failure."""
        await self._launch()
        await asyncio.gather(*self._tasks)

    async def abort(self) -> None:
        self._memory.release(self._held)             # the open batch never reached a task
        self._open, self._held, self._bytes = [], 0, 0
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _launch(self) -> None:
        while self._in_flight >= self._window:
            self._slot_free.clear()
            await self._slot_free.wait()
        if self._open:               # else a finishing batch started it meanwhile
            self._start()

    def _start(self) -> None:
        batch, held = self._open, self._held
        self._open, self._held, self._bytes = [], 0, 0
        self._in_flight += 1
        self._tasks.append(asyncio.create_task(self._run(batch, held)))

    async def _run(self, batch: list[Item], held: int) -> None:
        try:
            await self._store(batch)
        except BaseException:
            self._done(held, failed=True)
            raise
        self._done(held, failed=False)

    def _done(self, held: int, failed: bool) -> None:
        """Budget back, a slot free, and blocks that waited while the window was busy
        start now if nothing else is in flight."""
        self._memory.release(held)
        self._in_flight -= 1
        self._slot_free.set()
        if self._in_flight == 0 and self._open and not failed:
            self._start()

    def _raise_failures(self) -> None:
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception():
                raise task.exception()
