"""The gateway's writer lease on its volume, and the disk wrapper that enforces it.

Rules kept:
- the gateway serves only after AcquireVolumeLease succeeded; its holder id is the cache
  directory's identity, so a restart with the same directory takes the lease back at once
  (and replays that directory's log) while any other gateway gets VOLUME_IN_USE;
- the lease is renewed every third of its TTL; validity is counted from the moment a
  request was SENT, so the gateway's idea of "held" never outlasts the service's;
- once it can not be sure it holds the lease (renewals failed for a whole TTL, or the
  service says VOLUME_LEASE_NOT_HELD), `FencedDisk` fails every write, zero and flush
  with EIO; reads go on. Dirty data stays in the log for the next holder of this directory.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from pathlib import Path

from clients.aio import AsyncClient
from clients.errors import BlockstoreError, FailedPrecondition
from clients.gateway.disk import Disk, io_error

log = logging.getLogger("blockstore.gateway")


def identity(cache_dir: Path) -> str:
    """This cache directory's stable holder id (created on first use)."""
    path = cache_dir / "identity"
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        holder = f"gw-{secrets.token_hex(12)}"
        tmp = path.with_name("identity.tmp")
        tmp.write_text(holder + "\n")
        tmp.replace(path)
        return holder


class LeaseKeeper:
    def __init__(self, client: AsyncClient, volume_id: str, holder: str, ttl_s: int) -> None:
        self.client, self.volume_id, self.holder, self.ttl_s = client, volume_id, holder, ttl_s
        self._valid_until = 0.0
        self.lost = ""

    def held(self) -> bool:
        return not self.lost and time.monotonic() < self._valid_until

    async def acquire(self) -> None:
        sent = time.monotonic()
        await self.client.acquire_volume_lease(self.volume_id, self.holder, self.ttl_s)
        self._valid_until = sent + self.ttl_s

    async def keep(self) -> None:
        """Renews until cancelled or until the lease is gone for good."""
        while not self.lost:
            await asyncio.sleep(self.ttl_s / 3)
            sent = time.monotonic()
            try:
                await self.client.renew_volume_lease(self.volume_id, self.holder, self.ttl_s)
                self._valid_until = sent + self.ttl_s
            except FailedPrecondition as err:
                self.lost = str(err)
                log.error("gateway: lost the lease on %s: %s; writes now fail", self.volume_id, err)
            except BlockstoreError as err:
                log.warning("gateway: renewing the lease on %s failed: %s", self.volume_id, err)

    async def release(self) -> None:
        if not self.lost:
            await self.client.release_volume_lease(self.volume_id, self.holder)


class FencedDisk:
    """A `Disk` that refuses to change anything while the lease is not surely held."""

    def __init__(self, disk: Disk, lease: LeaseKeeper) -> None:
        self.disk, self.lease, self.size = disk, lease, disk.size

    def _check(self) -> None:
        if not self.lease.held():
            raise io_error(f"not writing: the lease on volume {self.lease.volume_id} is not "
                           f"held ({self.lease.lost or 'renewals failing'})")

    async def read(self, offset: int, length: int) -> bytes:
        return await self.disk.read(offset, length)

    def read_now(self, offset: int, length: int) -> bytes | None:
        return self.disk.read_now(offset, length)

    async def write(self, offset: int, data: bytes, fua: bool = False) -> None:
        self._check()
        await self.disk.write(offset, data, fua)

    async def zero(self, offset: int, length: int, fua: bool = False) -> None:
        self._check()
        await self.disk.zero(offset, length, fua)

    async def flush(self) -> None:
        self._check()
        await self.disk.flush()
