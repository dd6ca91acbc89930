"""EBS snapshot deadlines, PostgreSQL side: the twin of manifest/sqlite_ebs.py.

Owns the same `ebs_timeouts` rows under the same rule (rows only, ebs_facade/timeouts.py
decides); nothing here differs by engine but the placeholders of manifest/statements.py.
"""

from __future__ import annotations

from manifest import statements as sql
from manifest.postgres_common import PgQueries


class EbsTimeoutQueries(PgQueries):
    async def put_ebs_timeout(self, snapshot_id: str, account_id: str, timeout_us: int,
                              deadline_us: int) -> None:
        await self.conn.execute(sql.PUT_EBS_TIMEOUT.pg, snapshot_id, account_id, timeout_us,
                                deadline_us)

    async def ebs_deadline(self, snapshot_id: str) -> int | None:
        row = await self._one(sql.EBS_DEADLINE.pg, snapshot_id)
        return row[0] if row else None

    async def extend_ebs_deadline(self, snapshot_id: str, now_us: int) -> None:
        await self.conn.execute(sql.EXTEND_EBS_DEADLINE.pg, now_us, snapshot_id)

    async def expired_ebs_timeouts(self, now_us: int, limit: int) -> list[tuple[str, str]]:
        """(account_id, snapshot_id) of rows whose deadline passed, earliest first."""
        rows = await self._all(sql.EXPIRED_EBS_TIMEOUTS.pg, now_us, limit)
        return [(r[0], r[1]) for r in rows]

    async def drop_ebs_timeout(self, snapshot_id: str) -> None:
        await self.conn.execute(sql.DROP_EBS_TIMEOUT.pg, snapshot_id)
