"""Data-plane registrations, PostgreSQL side.

Owns the reads and writes of `data_planes` rows. Rules: manifest/sqlite_planes.py's (rows
only; `expires_at > now`, `now` given by the caller); each process writes only its own row,
so no lock beyond the row's own is needed. The statements are manifest/statements.py's.
"""

from __future__ import annotations

from manifest.models import DataPlaneRow
from manifest import statements as sql
from manifest.postgres_common import PgQueries, _count


class DataPlaneQueries(PgQueries):
    async def put_data_plane(self, row: DataPlaneRow) -> None:
        await self.conn.execute(
            sql.PUT_DATA_PLANE.pg, row.process_id, row.address, row.started_at, row.renewed_at,
            row.expires_at)

    async def drop_data_plane(self, process_id: str) -> None:
        await self.conn.execute(sql.DROP_DATA_PLANE.pg, process_id)

    async def prune_data_planes(self, expired_before: int) -> int:
        return _count(await self.conn.execute(sql.PRUNE_DATA_PLANES.pg, expired_before))

    async def live_data_planes(self, now: int) -> list[DataPlaneRow]:
        rows = await self._all(sql.LIVE_DATA_PLANES.pg, now)
        return [DataPlaneRow(*r) for r in rows]
