"""Which data planes are alive (ListDataPlanes): unexpired registrations, one per address.

Rule: a registration counts while `expires_at > now` (services/advertise.py renews it);
several processes advertising one address (a load balancer's) are one endpoint, whose
heartbeat is the freshest of theirs and whose start the earliest.
"""

from __future__ import annotations

from dataclasses import dataclass

from blockstore.clock import Clock
from manifest import ManifestStore


@dataclass(frozen=True)
class Endpoint:
    address: str
    heartbeat_age_us: int
    started_at: int


class DataPlanes:
    def __init__(self, store: ManifestStore, clock: Clock) -> None:
        self.store, self.clock = store, clock

    async def live(self) -> list[Endpoint]:
        now = self.clock.now_us()
        async with self.store.read() as tx:
            rows = await tx.live_data_planes(now)
        by_address: dict[str, Endpoint] = {}
        for row in rows:                      # sorted by address, then start
            seen = by_address.get(row.address)
            age = max(0, now - row.renewed_at)
            by_address[row.address] = Endpoint(
                row.address, min(age, seen.heartbeat_age_us) if seen else age,
                seen.started_at if seen else row.started_at)
        return list(by_address.values())
