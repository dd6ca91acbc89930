"""Data-plane registrations, PostgreSQL dialect (see manifest/sqlite_planes.py for the
rules: rows only; `expires_at > now` with `now` given by the caller decides who is alive).
Each process writes only its own row, so no lock beyond the row's own is needed."""

from __future__ import annotations

from manifest.models import DataPlaneRow
from manifest.postgres_common import PgQueries, _count

PLANE_COLS = "process_id, address, started_at, renewed_at, expires_at"


class DataPlaneQueries(PgQueries):
    async def put_data_plane(self, row: DataPlaneRow) -> None:
        await self.conn.execute(
            f"INSERT INTO data_planes ({PLANE_COLS}) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (process_id) DO UPDATE SET address = excluded.address, "
            "renewed_at = excluded.renewed_at, expires_at = excluded.expires_at",
            row.process_id, row.address, row.started_at, row.renewed_at, row.expires_at)

    async def drop_data_plane(self, process_id: str) -> None:
        await self.conn.execute("DELETE FROM data_planes WHERE process_id = $1", process_id)

    async def prune_data_planes(self, expired_before: int) -> int:
        return _count(await self.conn.execute(
            "DELETE FROM data_planes WHERE expires_at < $1", expired_before))

    async def live_data_planes(self, now: int) -> list[DataPlaneRow]:
        rows = await self._all(f"SELECT {PLANE_COLS} FROM data_planes WHERE expires_at > $1 "
                               "ORDER BY address, started_at", now)
        return [DataPlaneRow(*r) for r in rows]
