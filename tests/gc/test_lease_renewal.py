"""A maintenance-lease holder that cannot renew stops its destructive work before the
lease can pass to another (real SQLite file, in-process).

Two ways renewal fails: the database refuses the write (an error: before the fix it was
swallowed and `lost` stayed false), or the write hangs because another connection holds
the database's write lock (the renewer blocks; the holder must stop trusting its lease
on its own clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time

import pytest

from chunkstore import LocalChunkStore
from services.gc import GcConfig, collect_garbage
from services.lease import LEASE_NAME, LeaseLost, maintenance_lease
from tests.gc.manifest_builder import open_store
from tests.gc.test_sweep import HOUR, known, put

TTL = 0.6


class RenewalsFail:
    """The store, except that once `armed` every write of the lease row raises, as a
    database that hit an I/O error would (only this cannot be provoked for real)."""

    def __init__(self, store) -> None:
        self._store, self.armed = store, False

    def read(self):
        return self._store.read()

    @contextlib.asynccontextmanager
    async def write(self):
        async with self._store.write() as tx:
            yield _FailingLease(tx, self)


class _FailingLease:
    def __init__(self, tx, owner: RenewalsFail) -> None:
        self._tx, self._owner = tx, owner

    def __getattr__(self, name):
        return getattr(self._tx, name)

    async def put_lease(self, *args):
        if self._owner.armed:
            raise sqlite3.OperationalError("disk I/O error")
        return await self._tx.put_lease(*args)


@pytest.fixture
async def store(tmp_path):
    store = await open_store(tmp_path)
    yield store
    await store.close()


async def lease_row(store) -> tuple[str, float]:
    async with store.read() as tx:
        return await tx.get_lease(LEASE_NAME)


async def until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.01)


async def test_a_renewal_error_marks_the_lease_lost_before_it_expires(store):
    failing = RenewalsFail(store)
    async with maintenance_lease(failing, ttl_s=TTL) as lease:
        _, expires_at = await lease_row(store)
        failing.armed = True
        await until(lambda: lease.lost, TTL, "a failed renewal is noticed within the ttl")
        assert time.time() < expires_at, "lost before anyone else could take the lease"
        with pytest.raises(LeaseLost, match="renewal failed"):
            lease.check()
        failing.armed = False


async def test_a_hung_renewal_makes_the_holder_stop_before_the_lease_expires(store, tmp_path):
    async with maintenance_lease(store, ttl_s=TTL) as lease:
        hog = sqlite3.connect(tmp_path / "manifest.db", isolation_level=None)
        hog.execute("BEGIN IMMEDIATE")              # another process holds the write lock
        try:
            _, expires_at = await lease_row(store)
            await until(lambda: lease.lost, TTL, "a holder that cannot renew stops trusting")
            assert time.time() < expires_at, "it stops before the lease could pass on"
        finally:
            hog.execute("ROLLBACK")
            hog.close()


async def test_gc_deletes_nothing_more_once_its_lease_is_lost(store, tmp_path):
    chunks = LocalChunkStore(tmp_path / "chunks", fsync=False)
    failing = RenewalsFail(store)
    tokens = [await put(store, chunks, b"old %d" % n * 50, age=2 * HOUR) for n in range(5)]
    deleted, real_delete = [], chunks.delete

    async def delete(token, *, older_than=None):
        if not deleted:                        # renewals start failing mid-sweep ...
            failing.armed = True
            _, expires_at = await lease_row(store)
            await until(lambda: time.time() > expires_at, 2 * TTL,
                        "... and the lease runs out while this delete is in flight")
        deleted.append(token)
        return await real_delete(token, older_than=older_than)

    chunks.delete = delete
    with pytest.raises(LeaseLost):
        await collect_garbage(failing, chunks, GcConfig(grace_s=HOUR, batch=1,
                                                        lease_ttl_s=TTL))
    failing.armed = False
    assert len(deleted) == 1, "only the delete in flight when renewal failed went ahead"
    kept = [t for t in tokens if t not in deleted]
    for token in kept:
        assert await chunks.stat(token) is not None and await known(store, token), \
            "chunks the run did not get to keep their file and their rows"
