"""Active operations and chunk releases, PostgreSQL side (migrations/0005).

Owns the same rows as manifest/sqlite_operations.py, under its rules (the data plane
records, renews and ends its operations; GC purges and reads them). What differs from
SQLite stays here: id and token sets travel as one array parameter (`= ANY($1)`), not in
batches of `IN (?, ...)`, and row counts come from the command status. The other
statements are manifest/statements.py's.
"""

from __future__ import annotations

from typing import Iterable

from manifest.models import ActiveOperation
from manifest import statements as sql
from manifest.postgres_common import PgQueries, _count


class OperationQueries(PgQueries):
    async def start_operation(self, op: ActiveOperation) -> None:
        await self.conn.execute(sql.START_OPERATION.pg,
                                op.op_id, op.kind, op.target, op.holder, op.vid, op.version,
                                op.started_at, op.expires_at)

    async def end_operations(self, op_ids: Iterable[str]) -> None:
        await self.conn.execute("DELETE FROM active_operations WHERE op_id = ANY($1::text[])",
                                sorted(set(op_ids)))

    async def renew_operations(self, holder: str, expires_at: float) -> int:
        """Push back the expiry of every row of `holder`; a purged row stays gone."""
        return _count(await self.conn.execute(sql.RENEW_OPERATIONS.pg, expires_at, holder))

    async def operation_alive(self, op_id: str) -> bool:
        return await self.conn.fetchval("SELECT EXISTS (SELECT 1 FROM active_operations "
                                        "WHERE op_id = $1)", op_id)

    async def active_operations(self) -> list[ActiveOperation]:
        rows = await self._all(sql.ACTIVE_OPERATIONS.pg)
        return [ActiveOperation(*r) for r in rows]

    async def released_since(self, tokens: Iterable[bytes], since: float) -> set[bytes]:
        """The subset of `tokens` that lost a block row by an overwrite at or after `since`."""
        rows = await self._all("SELECT token FROM chunk_releases WHERE released_at >= $1 "
                               "AND token = ANY($2::bytea[])", since, list(set(tokens)))
        return {r[0] for r in rows}

    async def prune_releases(self, before: float) -> int:
        return _count(await self.conn.execute(sql.PRUNE_RELEASES.pg, before))
