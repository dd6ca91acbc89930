"""Data-plane registrations, SQLite side.

Owns the reads and writes of `data_planes` rows (services/advertise.py writes them,
control_plane/data_planes.py reads them). Rule: rows only; what counts as alive is `now`
given by the caller, so every process judges expiry by the same rule: `expires_at > now`.
The statements are manifest/statements.py's; the row count of a prune is SQLite's own.
"""

from __future__ import annotations

from manifest.models import DataPlaneRow
from manifest import statements as sql
from manifest.sqlite_common import SqliteQueries


class DataPlaneQueries(SqliteQueries):
    async def put_data_plane(self, row: DataPlaneRow) -> None:
        """Register or renew one process's row."""
        await self.conn.execute(
            sql.PUT_DATA_PLANE,
            (row.process_id, row.address, row.started_at, row.renewed_at, row.expires_at))

    async def drop_data_plane(self, process_id: str) -> None:
        await self.conn.execute(sql.DROP_DATA_PLANE, (process_id,))

    async def prune_data_planes(self, expired_before: int) -> int:
        """Delete rows that expired before `expired_before`; returns how many went."""
        cur = await self.conn.execute(sql.PRUNE_DATA_PLANES, (expired_before,))
        return cur.rowcount

    async def live_data_planes(self, now: int) -> list[DataPlaneRow]:
        """Unexpired registrations, by address then start time."""
        rows = await self._all(sql.LIVE_DATA_PLANES, (now,))
        return [DataPlaneRow(*r) for r in rows]
