"""Volume writer leases, PostgreSQL side.

Owns the reads and writes of `volume_leases` rows. Rules: rows only (control_plane/
leases.py decides); a lease check-and-set runs in a write transaction that has read the
volume with `get_volume`, which locks its row (manifest/postgres.py), so two gateways
never both win one volume. The statements are manifest/statements.py's.
"""

from __future__ import annotations

from manifest import statements as sql
from manifest.postgres_common import PgQueries


class VolumeLeaseQueries(PgQueries):
    async def get_volume_lease(self, vid: int) -> tuple[str, int] | None:
        """(holder, expires_at_us) of the volume's lease row, or None."""
        row = await self._one(sql.VOLUME_LEASE.pg, vid)
        return (row[0], row[1]) if row else None

    async def put_volume_lease(self, vid: int, holder: str, expires_at: int) -> None:
        await self.conn.execute(sql.PUT_VOLUME_LEASE.pg, vid, holder, expires_at)

    async def drop_volume_lease(self, vid: int, holder: str) -> None:
        await self.conn.execute(sql.DROP_VOLUME_LEASE.pg, vid, holder)
