"""Snapshot sharing's queries, SQLite side (control_plane/sharing.py decides).

Owns the reads and writes of `snapshot_shares` rows, the snapshots shared with an
account, and accounts by id for the admin listing. Rules: rows only; a shared snapshot is
found only live (not deleted) and only through a share row of the asking account. The
statements are manifest/statements.py's but for the upsert and the optional filter.
"""

from __future__ import annotations

from manifest.models import Account, Share, Snapshot
from manifest import statements as sql
from manifest.sqlite_common import SNAPSHOT_SELECT, SqliteQueries, _snapshot


class ShareQueries(SqliteQueries):
    async def get_account(self, account_id: str) -> Account | None:
        row = await self._one(sql.ACCOUNT_BY_ID, (account_id,))
        return Account(*row) if row else None

    async def list_accounts(self) -> list[Account]:
        rows = await self._all(sql.ACCOUNTS)
        return [Account(*r) for r in rows]

    async def put_share(self, sid: int, share: Share) -> None:
        await self.conn.execute("INSERT OR REPLACE INTO snapshot_shares VALUES (?, ?, ?, ?)",
                                (sid, share.account_id, int(share.allow_export),
                                 share.created_at))

    async def delete_share(self, sid: int, account_id: str) -> None:
        await self.conn.execute(sql.DELETE_SHARE, (sid, account_id))

    async def get_share(self, sid: int, account_id: str) -> Share | None:
        row = await self._one(sql.SHARE, (sid, account_id))
        return Share(row[0], bool(row[1]), row[2]) if row else None

    async def list_shares(self, sid: int) -> list[Share]:
        rows = await self._all(sql.SHARES, (sid,))
        return [Share(a, bool(e), c) for a, e, c in rows]

    async def get_shared_snapshot(self, account_id: str,
                                  snapshot_id: str) -> tuple[Snapshot, Share] | None:
        """A live snapshot of another account shared with `account_id`, with the share."""
        row = await self._one(sql.SHARED_SNAPSHOT, (snapshot_id, account_id))
        if row is None:
            return None
        snap = _snapshot(row)
        share = await self.get_share(snap.sid, account_id)
        assert share is not None
        return snap, share

    async def list_shared_snapshots(self, account_id: str, volume_id: str | None, after: str,
                                    limit: int) -> list[Snapshot]:
        where = "h.account_id = ? AND s.deleted_at IS NULL AND s.snapshot_id > ?"
        params: list = [account_id, after]
        if volume_id:
            where += " AND v.volume_id = ?"
            params.append(volume_id)
        rows = await self._all(f"{SNAPSHOT_SELECT} JOIN snapshot_shares h ON h.sid = s.sid "
                               f"WHERE {where} ORDER BY s.snapshot_id LIMIT ?",
                               (*params, limit))
        return [_snapshot(r) for r in rows]
