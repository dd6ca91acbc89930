"""Volume writer leases: at most one live holder per volume (the NBD gateway).

Rules kept:
- a lease is live until `expires_at`; a free, expired or own lease may be acquired, any
  other is VOLUME_IN_USE (the message says when it ends, never who holds it);
- the same `holder_id` takes its own lease back at once (a gateway restarted after a
  crash, with the same cache directory), so only a different holder waits for expiry;
- renew extends only the caller's own row: a lease taken over by someone else after it
  expired is VOLUME_LEASE_NOT_HELD, so the old holder learns it must stop writing;
- release drops only the caller's own row and is idempotent;
- every decision reads and writes in one manifest write transaction, with the injected
  clock, so two gateways racing for a free volume cannot both win.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from blockstore.errors import InvalidArgument, VolumeInUse, VolumeLeaseNotHeld
from control_plane.config import ControlPlaneConfig
from manifest import ManifestStore
from manifest.lookups import require_volume

DEFAULT_TTL_S = 30
MAX_TTL_S = 3600
_HOLDER = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(frozen=True)
class Lease:
    volume_id: str
    holder_id: str
    expires_at: int     # microseconds since the epoch


class VolumeLeases:
    def __init__(self, store: ManifestStore, config: ControlPlaneConfig) -> None:
        self.store, self.config = store, config

    async def acquire(self, account_id: str, volume_id: str, holder: str, ttl_s: int) -> Lease:
        return await self._take(account_id, volume_id, holder, ttl_s, renewing=False)

    async def renew(self, account_id: str, volume_id: str, holder: str, ttl_s: int) -> Lease:
        return await self._take(account_id, volume_id, holder, ttl_s, renewing=True)

    async def release(self, account_id: str, volume_id: str, holder: str) -> None:
        _check_holder(holder, volume_id)
        async with self.store.write() as tx:
            volume = await require_volume(tx, account_id, volume_id)
            await tx.drop_volume_lease(volume.vid, holder)

    async def _take(self, account_id: str, volume_id: str, holder: str, ttl_s: int,
                    renewing: bool) -> Lease:
        _check_holder(holder, volume_id)
        ttl_us = _check_ttl(ttl_s, volume_id) * 1_000_000
        async with self.store.write() as tx:
            volume = await require_volume(tx, account_id, volume_id)
            now = self.config.clock.now_us()
            current = await tx.get_volume_lease(volume.vid)
            mine = current is not None and current[0] == holder
            if renewing and not mine:
                raise VolumeLeaseNotHeld(
                    f"the lease on volume {volume_id} is not held by {holder!r} any more",
                    volume_id=volume_id)
            if current is not None and not mine and current[1] > now:
                left_s = (current[1] - now + 999_999) // 1_000_000
                raise VolumeInUse(
                    f"volume {volume_id} is in use by another gateway; its lease ends in "
                    f"{left_s} s unless renewed", volume_id=volume_id, expires_in_s=left_s)
            await tx.put_volume_lease(volume.vid, holder, now + ttl_us)
            return Lease(volume_id, holder, now + ttl_us)


def _check_holder(holder: str, volume_id: str) -> None:
    if not _HOLDER.match(holder):
        raise InvalidArgument(f"holder_id for the lease on volume {volume_id} must be 1..128 "
                              "characters of A-Z a-z 0-9 . _ : -", field="holder_id")


def _check_ttl(ttl_s: int, volume_id: str) -> int:
    ttl_s = ttl_s or DEFAULT_TTL_S
    if ttl_s > MAX_TTL_S:
        raise InvalidArgument(f"ttl_seconds {ttl_s} for the lease on volume {volume_id} is over "
                              f"{MAX_TTL_S}", field="ttl_seconds")
    return ttl_s
