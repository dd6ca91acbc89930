"""Deadlines of EBS snapshots, SQLite side (migrations/0014).

Owns the reads and writes of `ebs_timeouts` rows. Rule: rows only; ebs_facade/timeouts.py
keeps the rules of when a snapshot times out. The statements are manifest/statements.py's.
"""

from __future__ import annotations

from manifest import statements as sql
from manifest.sqlite_common import SqliteQueries


class EbsTimeoutQueries(SqliteQueries):
    async def put_ebs_timeout(self, snapshot_id: str, account_id: str, timeout_us: int,
                              deadline_us: int) -> None:
        await self.conn.execute(sql.PUT_EBS_TIMEOUT,
                                (snapshot_id, account_id, timeout_us, deadline_us))

    async def ebs_deadline(self, snapshot_id: str) -> int | None:
        row = await self._one(sql.EBS_DEADLINE, (snapshot_id,))
        return row[0] if row else None

    async def extend_ebs_deadline(self, snapshot_id: str, now_us: int) -> None:
        await self.conn.execute(sql.EXTEND_EBS_DEADLINE, (now_us, snapshot_id))

    async def expired_ebs_timeouts(self, now_us: int, limit: int) -> list[tuple[str, str]]:
        """(account_id, snapshot_id) of rows whose deadline passed, earliest first."""
        rows = await self._all(sql.EXPIRED_EBS_TIMEOUTS, (now_us, limit))
        return [(r[0], r[1]) for r in rows]

    async def drop_ebs_timeout(self, snapshot_id: str) -> None:
        await self.conn.execute(sql.DROP_EBS_TIMEOUT, (snapshot_id,))
