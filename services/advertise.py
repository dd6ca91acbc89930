"""Data-plane registration: the row that lets clients find this process (migrations/0012).

A process started with `--advertise HOST:PORT` (and `serve` on a concrete listen address)
keeps one row in the manifest's `data_planes` table, which the control plane's
ListDataPlanes reads (control_plane/data_planes.py). Rules:

- the row is written once the server takes calls, so a listed address answers;
- it is renewed every `ttl / 3`; a process that stops renewing (SIGKILL, a hang, a lost
  database) drops out of every list when `expires_at` passes, with no one cleaning up;
- a renewal that fails is logged and retried at the next tick: the row outlives up to
  two missed renewals, and the data plane keeps serving whatever the manifest allows;
- on a clean shutdown the row goes first, before in-flight calls drain, so no client
  is sent to a process that is stopping.
"""

from __future__ import annotations

import asyncio
import logging

from blockstore.clock import Clock, IdGenerator, RandomIds, SystemClock
from manifest import ManifestStore
from manifest.models import DataPlaneRow

log = logging.getLogger("blockstore.advertise")
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]", "*"})


def serve_address(listen: str, port: int) -> str:
    """The address a `serve` advertises for itself: its listen host and bound port, or
    "" when it listens on every interface (no one address reaches it from everywhere)."""
    host = listen.rpartition(":")[0]
    return "" if host in WILDCARD_HOSTS else f"{host}:{port}"


class Registration:
    def __init__(self, store: ManifestStore, address: str, ttl_s: float, *,
                 clock: Clock | None = None, ids: IdGenerator | None = None) -> None:
        self.store, self.address, self.ttl_us = store, address, int(ttl_s * 1_000_000)
        self.clock = clock or SystemClock()
        self.process_id = (ids or RandomIds()).new("dp")
        self.started_at = self.clock.now_us()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Register now (a failure fails the start-up), then renew in the background."""
        await self.renew()
        self._task = asyncio.create_task(self._renew_forever())

    async def renew(self) -> None:
        now = self.clock.now_us()
        async with self.store.write() as tx:
            await tx.put_data_plane(DataPlaneRow(self.process_id, self.address,
                                                 self.started_at, now, now + self.ttl_us))
            await tx.prune_data_planes(now - self.ttl_us)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_us / 3_000_000)
            try:
                await self.renew()
            except Exception as err:          # the database may be back at the next tick
                log.warning("renewing data-plane registration %s failed: %s",
                            self.address, err)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            async with self.store.write() as tx:
                await tx.drop_data_plane(self.process_id)
        except Exception as err:              # it expires by itself
            log.warning("removing data-plane registration %s failed: %s", self.address, err)
