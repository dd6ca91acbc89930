"""Deadlines of EBS snapshots (migrations/0014; ebs_facade/timeouts.py keeps the rules,
these only read and write rows)."""

from __future__ import annotations

from manifest.sqlite_common import SqliteQueries


class EbsTimeoutQueries(SqliteQueries):
    async def put_ebs_timeout(self, snapshot_id: str, account_id: str, timeout_us: int,
                              deadline_us: int) -> None:
        await self.conn.execute("INSERT INTO ebs_timeouts (snapshot_id, account_id, "
                                "timeout_us, deadline_us) VALUES (?, ?, ?, ?)",
                                (snapshot_id, account_id, timeout_us, deadline_us))

    async def ebs_deadline(self, snapshot_id: str) -> int | None:
        row = await self._one("SELECT deadline_us FROM ebs_timeouts WHERE snapshot_id = ?",
                              (snapshot_id,))
        return row[0] if row else None

    async def extend_ebs_deadline(self, snapshot_id: str, now_us: int) -> None:
        await self.conn.execute("UPDATE ebs_timeouts SET deadline_us = ? + timeout_us "
                                "WHERE snapshot_id = ?", (now_us, snapshot_id))

    async def expired_ebs_timeouts(self, now_us: int, limit: int) -> list[tuple[str, str]]:
        """(account_id, snapshot_id) of rows whose deadline passed, earliest first."""
        rows = await self._all("SELECT account_id, snapshot_id FROM ebs_timeouts WHERE "
                               "deadline_us < ? ORDER BY deadline_us LIMIT ?", (now_us, limit))
        return [(r[0], r[1]) for r in rows]

    async def drop_ebs_timeout(self, snapshot_id: str) -> None:
        await self.conn.execute("DELETE FROM ebs_timeouts WHERE snapshot_id = ?",
                                (snapshot_id,))
