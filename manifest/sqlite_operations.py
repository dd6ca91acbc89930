"""Queries of the active-operation record and of chunk releases (migrations/0005).

Writers: the data plane (`data_plane/operations.py`) records, renews and ends its
operations; GC (`services/gc.py`) purges rows whose process is gone, reads the oldest
start, and asks which chunks were released since its cutoff.
"""

from __future__ import annotations

from typing import Iterable

from manifest.models import ActiveOperation
from manifest import statements as sql
from manifest.sqlite_common import SqliteQueries


class OperationQueries(SqliteQueries):
    async def start_operation(self, op: ActiveOperation) -> None:
        await self.conn.execute(sql.START_OPERATION,
                                (op.op_id, op.kind, op.target, op.holder, op.vid, op.version,
                                 op.started_at, op.expires_at))

    async def end_operations(self, op_ids: Iterable[str]) -> None:
        await self._execute_in("DELETE FROM active_operations WHERE op_id {one_of}",
                               list(op_ids))

    async def renew_operations(self, holder: str, expires_at: float) -> int:
        """Push back the expiry of every row of `holder`; a purged row stays gone."""
        await self.conn.execute(sql.RENEW_OPERATIONS, (expires_at, holder))
        return (await self._one("SELECT changes()"))[0]

    async def operation_alive(self, op_id: str) -> bool:
        return await self._one("SELECT 1 FROM active_operations WHERE op_id = ?",
                               (op_id,)) is not None

    async def active_operations(self) -> list[ActiveOperation]:
        rows = await self._all(sql.ACTIVE_OPERATIONS)
        return [ActiveOperation(*r) for r in rows]

    async def released_since(self, tokens: Iterable[bytes], since: float) -> set[bytes]:
        """The subset of `tokens` that lost a block row by an overwrite at or after `since`."""
        rows = await self._all_in("SELECT token FROM chunk_releases WHERE released_at >= ? "
                                  "AND token {one_of}", list(set(tokens)), (since,))
        return {r[0] for r in rows}

    async def prune_releases(self, before: float) -> int:
        await self.conn.execute(sql.PRUNE_RELEASES, (before,))
        return (await self._one("SELECT changes()"))[0]
