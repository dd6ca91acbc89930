"""SigV4 access keys, PostgreSQL side: the twin of manifest/sqlite_keys.py.

Owns the same `access_keys` rows under the same rule (rows only, ebs_facade/ verifies);
nothing here differs by engine but the placeholders of manifest/statements.py.
"""

from __future__ import annotations

from manifest import statements as sql
from manifest.postgres_common import PgQueries


class AccessKeyQueries(PgQueries):
    async def insert_access_key(self, access_key_id: str, account_id: str, secret: str,
                                created_at: int) -> None:
        await self.conn.execute(sql.INSERT_ACCESS_KEY.pg,
                                access_key_id, account_id, secret, created_at)

    async def access_key(self, access_key_id: str) -> tuple[str, str] | None:
        """(account_id, secret) of the key, or None."""
        row = await self._one(sql.ACCESS_KEY.pg, access_key_id)
        return (row[0], row[1]) if row else None
