"""A lease in the manifest database: one chunk-maintenance run (gc, verify) at a time.

Owns `maintenance_lease`, `Lease`, `LeaseBusy` and `LeaseLost`.

Several processes may share one database and chunk store (several data planes, a cron
`blockstore gc`, an operator's `blockstore verify`). Two GC runs at once would still be
safe (every sweep decision is re-checked), but they would double the I/O, and a verify
that ran next to a sweep could report a chunk missing that was legitimately swept. So
both take the row `gc_lease("chunks")` in a write transaction:

- it is free if absent, expired, or held by a process of this host that no longer
  exists (a kill -9 leaves the row behind; its holder is "host:pid:nonce");
- the holder renews it every `ttl / 4` while it works, so a long run keeps it and a
  crashed one on another host loses it after `ttl`;
- a holder stops trusting its lease half a ttl after the last renewal that succeeded
  began: a renewal that fails (an error, or another holder in the row) marks it lost at
  once, and one that hangs (the database write lock held elsewhere) lets that deadline
  pass. So a holder that cannot renew stops its destructive work (`check()` before each
  step) at least half a ttl before anyone else can take the lease over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import AsyncIterator, Callable

from blockstore.errors import BlockstoreError
from blockstore.holder import holder_is_dead, new_holder
from manifest import ManifestStore

LEASE_NAME = "chunks"
log = logging.getLogger("blockstore.lease")


class LeaseBusy(BlockstoreError):
    """Another gc or verify run holds the chunk-maintenance lease."""

    reason = "MAINTENANCE_RUNNING"


class LeaseLost(BlockstoreError):
    """Our lease expired and someone else took it; this run must stop."""

    reason = "MAINTENANCE_LEASE_LOST"


class Lease:
    """The held lease; `check()` raises LeaseLost once it can no longer be trusted."""

    def __init__(self, holder: str, ttl_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.holder, self.ttl_s, self._clock = holder, ttl_s, clock
        self._trusted_until = clock() + ttl_s / 2
        self._why = ""

    def renewing(self) -> float:
        """Call before a renewal; pass the result to `renewed` once it committed."""
        return self._clock()

    def renewed(self, began: float) -> None:
        self._trusted_until = began + self.ttl_s / 2

    def fail(self, why: str) -> None:
        self._why = self._why or why

    @property
    def lost(self) -> bool:
        return bool(self._why) or self._clock() >= self._trusted_until

    def check(self) -> None:
        if self.lost:
            why = self._why or "it could not be renewed in time"
            raise LeaseLost(f"maintenance lease of {self.holder} is lost ({why}); "
                            "this run stopped before another could take it over")


async def try_take(store: ManifestStore, holder: str, ttl_s: float,
                   now: Callable[[], float] = time.time) -> bool:
    async with store.write() as tx:
        current = await tx.get_lease(LEASE_NAME)
        if current and current[0] != holder and current[1] > now() \
                and not holder_is_dead(current[0]):
            return False
        await tx.put_lease(LEASE_NAME, holder, now() + ttl_s)
        return True


async def _renew(store: ManifestStore, lease: Lease) -> None:
    while not lease.lost:
        await asyncio.sleep(lease.ttl_s / 4)
        began = lease.renewing()
        try:
            async with store.write() as tx:
                current = await tx.get_lease(LEASE_NAME)
                if current is None or current[0] != lease.holder:
                    lease.fail(f"taken over by {current[0] if current else 'nobody'}")
                    return
                await tx.put_lease(LEASE_NAME, lease.holder, time.time() + lease.ttl_s)
        except Exception as err:                 # never swallowed: the run must stop
            lease.fail(f"renewal failed: {err}")
            log.warning("maintenance lease renewal failed; stopping this run", exc_info=True)
            return
        lease.renewed(began)


@contextlib.asynccontextmanager
async def maintenance_lease(store: ManifestStore, *, ttl_s: float = 60.0,
                            wait_s: float = 0.0, poll_s: float = 0.1) -> AsyncIterator[Lease]:
    """Hold the lease for the block; wait up to `wait_s` for it, else LeaseBusy."""
    holder = new_holder()
    deadline = time.monotonic() + wait_s
    began = time.monotonic()
    while not await try_take(store, holder, ttl_s):
        if time.monotonic() >= deadline:
            raise LeaseBusy("another gc or verify run holds the maintenance lease; "
                            "try again when it has finished")
        await asyncio.sleep(poll_s)
        began = time.monotonic()
    lease = Lease(holder, ttl_s)
    lease.renewed(began)
    renewer = asyncio.create_task(_renew(store, lease))
    try:
        yield lease
    finally:
        renewer.cancel()
        await asyncio.gather(renewer, return_exceptions=True)
        async with store.write() as tx:
            await tx.drop_lease(LEASE_NAME, holder)
