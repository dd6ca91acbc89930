"""A manifest store that counts what the domain reads through it.

Cost tests wrap a real SQLite store with this to check that an operation reads an
amount that follows its work (changes, written rows, pending snapshots), not the
size of the store. Everything is forwarded to the real store.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from data_plane.operations import Operations
from manifest import BlockRow, Snapshot


class CountingTx:
    def __init__(self, tx, counts: "Counts") -> None:
        self._tx, self._counts = tx, counts

    def __getattr__(self, name):
        method = getattr(self._tx, name)

        async def call(*args, **kwargs):
            result = await method(*args, **kwargs)
            self._counts.add(result)
            return result
        return call


class Counts:
    def __init__(self) -> None:
        self.reads = self.block_rows = self.indexes = self.snapshots = 0

    def add(self, result) -> None:
        items = result if isinstance(result, list) else [result]
        for item in items:
            if isinstance(item, BlockRow):
                self.block_rows += 1
            elif isinstance(item, Snapshot):
                self.snapshots += 1
            elif isinstance(item, int) and isinstance(result, list):
                self.indexes += 1


class CountingStore:
    def __init__(self, store) -> None:
        self._store, self.counts = store, Counts()

    @asynccontextmanager
    async def read(self):
        self.counts.reads += 1
        async with self._store.read() as tx:
            yield CountingTx(tx, self.counts)

    @asynccontextmanager
    async def write(self):
        async with self._store.write() as tx:
            yield CountingTx(tx, self.counts)

    async def close(self) -> None:
        await self._store.close()


@asynccontextmanager
async def download_operation(store):
    """A recorded download operation, as DownloadBlocks holds one while it reads."""
    operations = Operations(store)
    async with operations.running("download") as op:
        await operations.record_alone(op, "test")
        yield op
