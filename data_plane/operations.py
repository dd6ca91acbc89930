"""The active-operation record of one data-plane process (manifest table
`active_operations`, migrations/0005).

Garbage collection never sweeps a chunk that an operation older than the sweep may
still use: its cutoff is at most the start of the oldest recorded operation
(services/gc.py). So every stream that reads chunk data (DownloadBlocks) or relies on
chunks it put or touched (UploadBlocks) is recorded while it runs. The rules:

- The row commits before the operation resolves a block row or puts/touches a chunk. A
  reader records itself in the write transaction that resolves its view, so the rows it
  will read exist when compaction first sees it (compaction keeps what it reads).
- One heartbeat per process renews the expiry of all its rows every ttl/4. A process
  that dies stops renewing; GC drops its rows once they expire (at once if GC runs on
  the same host and sees the process gone).
- GC counts every row present and removes only expired ones. An operation whose row is
  gone may have lost chunks to GC, so it checks before it trusts rows (each page of a
  download, the upload commit) and stops with the retryable CHUNK_COLLECTED.
- The row goes when the operation ends (an upload's inside its commit transaction).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import AsyncIterator, Callable

from blockstore.holder import new_holder
from manifest import ActiveOperation, ManifestStore, ManifestTx

log = logging.getLogger("blockstore.operations")


@dataclass
class Operation:
    op_id: str
    kind: str
    recorded: bool = False
    ended: bool = False


class Operations:
    """Records, renews and ends this process's operations."""

    def __init__(self, store: ManifestStore, ttl_s: float = 60.0,
                 now: Callable[[], float] = time.time) -> None:
        if ttl_s <= 0:
            raise ValueError(f"operation ttl must be > 0 seconds, got {ttl_s}")
        self.store, self.ttl_s, self.now = store, ttl_s, now
        self.holder = new_holder()
        self._live: set[str] = set()
        self._unended: set[str] = set()       # ended, but the row could not be deleted
        self._heartbeat: asyncio.Task | None = None

    @contextlib.asynccontextmanager
    async def running(self, kind: str) -> AsyncIterator[Operation]:
        """An operation for the block; recorded by `record`, its row removed on exit."""
        op = Operation(secrets.token_hex(8), kind)
        try:
            yield op
        finally:
            await asyncio.shield(self._end(op))

    async def record(self, tx: ManifestTx, op: Operation, target: str,
                     vid: int | None = None, version: int | None = None) -> None:
        """Write the row in the caller's write transaction (it commits with it)."""
        started = self.now()
        await tx.start_operation(ActiveOperation(op.op_id, op.kind, target, self.holder, vid,
                                                 version, started, started + self.ttl_s))
        op.recorded = True
        self._live.add(op.op_id)
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat())

    async def record_alone(self, op: Operation, target: str) -> None:
        async with self.store.write() as tx:
            await self.record(tx, op, target)

    @staticmethod
    async def end_in(tx: ManifestTx, op: Operation) -> None:
        """Remove the row inside the caller's transaction; call `ended` after it commits."""
        await tx.end_operations([op.op_id])

    def ended(self, op: Operation) -> None:
        op.ended = True
        self._live.discard(op.op_id)

    async def _end(self, op: Operation) -> None:
        if not op.recorded or op.ended:
            return
        self.ended(op)
        try:
            async with self.store.write() as tx:
                await tx.end_operations([op.op_id])
        except Exception:
            log.warning("could not remove the record of operation %s; it expires in %.0f s "
                        "unless the next heartbeat removes it", op.op_id, self.ttl_s,
                        exc_info=True)
            self._unended.add(op.op_id)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_s / 4)
            try:
                await self.renew()
            except Exception:
                # Not fatal by itself: an operation whose row GC purged meanwhile finds
                # out at its next check and stops (module docstring).
                log.warning("renewing active operations failed", exc_info=True)

    async def renew(self) -> None:
        """Push back the expiry of this process's rows; remove rows of ended operations."""
        if not self._live and not self._unended:
            return
        async with self.store.write() as tx:
            if self._unended:
                await tx.end_operations(list(self._unended))
            await tx.renew_operations(self.holder, self.now() + self.ttl_s)
        self._unended.clear()

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
        ids = self._live | self._unended
        if ids:
            async with self.store.write() as tx:
                await tx.end_operations(list(ids))
