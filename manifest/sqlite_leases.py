"""Volume writer leases, SQLite side.

Owns the reads and writes of `volume_leases` rows. Rule: rows only; control_plane/leases.py
decides who holds a volume (SQLite's one writer at a time makes its check-and-set atomic).
The statements are manifest/statements.py's.
"""

from __future__ import annotations

from manifest import statements as sql
from manifest.sqlite_common import SqliteQueries


class VolumeLeaseQueries(SqliteQueries):
    async def get_volume_lease(self, vid: int) -> tuple[str, int] | None:
        """(holder, expires_at_us) of the volume's lease row, or None."""
        row = await self._one(sql.VOLUME_LEASE, (vid,))
        return (row[0], row[1]) if row else None

    async def put_volume_lease(self, vid: int, holder: str, expires_at: int) -> None:
        await self.conn.execute(sql.PUT_VOLUME_LEASE, (vid, holder, expires_at))

    async def drop_volume_lease(self, vid: int, holder: str) -> None:
        await self.conn.execute(sql.DROP_VOLUME_LEASE, (vid, holder))
