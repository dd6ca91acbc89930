"""A lease in the manifest database: one chunk-maintenance run (gc, verify) at a time.

Several processes may share one database and chunk store (several data planes, a cron
`blockstore gc`, an operator's `blockstore verify`). Two GC runs at once would still be
safe (every sweep decision is re-checked), but they would double the I/O, and a verify
that ran next to a sweep could report a chunk missing that was legitimately swept. So
both take the row `gc_lease("chunks")` in a write transaction:

- it is free if absent, expired, or held by a process of this host that no longer
  exists (a kill -9 leaves the row behind; its holder is "host:pid:nonce");
- the holder renews it every `ttl / 3` while it works, so a long run keeps it and a
  crashed one on another host loses it after `ttl`;
- a holder that finds it lost (renewal saw another holder) stops at its next step.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import AsyncIterator, Callable

from blockstore.errors import BlockstoreError
from blockstore.holder import holder_is_dead, new_holder
from manifest import ManifestStore

LEASE_NAME = "chunks"


class LeaseBusy(BlockstoreError):
    """Another gc or verify run holds the chunk-maintenance lease."""

    reason = "MAINTENANCE_RUNNING"


class LeaseLost(BlockstoreError):
    """Our lease expired and someone else took it; this run must stop."""

    reason = "MAINTENANCE_LEASE_LOST"


class Lease:
    """The held lease; `check()` raises LeaseLost once renewal found it taken."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        self.lost = False

    def check(self) -> None:
        if self.lost:
            raise LeaseLost(f"maintenance lease of {self.holder} expired and was taken over")


async def try_take(store: ManifestStore, holder: str, ttl_s: float,
                   now: Callable[[], float] = time.time) -> bool:
    async with store.write() as tx:
        current = await tx.get_lease(LEASE_NAME)
        if current and current[0] != holder and current[1] > now() \
                and not holder_is_dead(current[0]):
            return False
        await tx.put_lease(LEASE_NAME, holder, now() + ttl_s)
        return True


async def _renew(store: ManifestStore, lease: Lease, ttl_s: float) -> None:
    while True:
        await asyncio.sleep(ttl_s / 3)
        async with store.write() as tx:
            current = await tx.get_lease(LEASE_NAME)
            if current is None or current[0] != lease.holder:
                lease.lost = True
                return
            await tx.put_lease(LEASE_NAME, lease.holder, time.time() + ttl_s)


@contextlib.asynccontextmanager
async def maintenance_lease(store: ManifestStore, *, ttl_s: float = 60.0,
                            wait_s: float = 0.0, poll_s: float = 0.1) -> AsyncIterator[Lease]:
    """Hold the lease for the block; wait up to `wait_s` for it, else LeaseBusy."""
    holder = new_holder()
    deadline = time.monotonic() + wait_s
    while not await try_take(store, holder, ttl_s):
        if time.monotonic() >= deadline:
            raise LeaseBusy("another gc or verify run holds the maintenance lease; "
                            "try again when it has finished")
        await asyncio.sleep(poll_s)
    lease = Lease(holder)
    renewer = asyncio.create_task(_renew(store, lease, ttl_s))
    try:
        yield lease
    finally:
        renewer.cancel()
        await asyncio.gather(renewer, return_exceptions=True)
        async with store.write() as tx:
            await tx.drop_lease(LEASE_NAME, holder)
