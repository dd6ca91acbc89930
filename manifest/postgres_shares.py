"""Snapshot sharing's queries, PostgreSQL side (control_plane/sharing.py decides).

Owns the same rows and rules as manifest/sqlite_shares.py. The statements are
manifest/statements.py's but for the upsert (`ON CONFLICT ... DO UPDATE`) and the
optional volume filter, whose placeholders are numbered as they are added.
"""

from __future__ import annotations

from manifest.models import Account, Share, Snapshot
from manifest import statements as sql
from manifest.postgres_common import PgQueries
from manifest.rows import SNAPSHOT_SELECT, _snapshot


class ShareQueries(PgQueries):
    async def get_account(self, account_id: str) -> Account | None:
        row = await self._one(sql.ACCOUNT_BY_ID.pg, account_id)
        return Account(*row) if row else None

    async def list_accounts(self) -> list[Account]:
        rows = await self._all(sql.ACCOUNTS.pg)
        return [Account(*r) for r in rows]

    async def put_share(self, sid: int, share: Share) -> None:
        await self.conn.execute(
            "INSERT INTO snapshot_shares (sid, account_id, allow_export, created_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (sid, account_id) DO UPDATE SET "
            "allow_export = excluded.allow_export, created_at = excluded.created_at",
            sid, share.account_id, share.allow_export, share.created_at)

    async def delete_share(self, sid: int, account_id: str) -> None:
        await self.conn.execute(sql.DELETE_SHARE.pg, sid, account_id)

    async def get_share(self, sid: int, account_id: str) -> Share | None:
        row = await self._one(sql.SHARE.pg, sid, account_id)
        return Share(row[0], bool(row[1]), row[2]) if row else None

    async def list_shares(self, sid: int) -> list[Share]:
        rows = await self._all(sql.SHARES.pg, sid)
        return [Share(a, bool(e), c) for a, e, c in rows]

    async def get_shared_snapshot(self, account_id: str,
                                  snapshot_id: str) -> tuple[Snapshot, Share] | None:
        row = await self._one(sql.SHARED_SNAPSHOT.pg, snapshot_id, account_id)
        if row is None:
            return None
        snap = _snapshot(row)
        share = await self.get_share(snap.sid, account_id)
        assert share is not None
        return snap, share

    async def list_shared_snapshots(self, account_id: str, volume_id: str | None, after: str,
                                    limit: int) -> list[Snapshot]:
        where = "h.account_id = $1 AND s.deleted_at IS NULL AND s.snapshot_id > $2"
        params: list = [account_id, after]
        if volume_id:
            where += " AND v.volume_id = $3"
            params.append(volume_id)
        rows = await self._all(f"{SNAPSHOT_SELECT} JOIN snapshot_shares h ON h.sid = s.sid "
                               f"WHERE {where} ORDER BY s.snapshot_id LIMIT "
                               f"${len(params) + 1}", *params, limit)
        return [_snapshot(r) for r in rows]
