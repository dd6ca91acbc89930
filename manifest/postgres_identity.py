"""The store identity binding's queries, PostgreSQL side.

Owns the reads and writes of the `store_identity` singleton (services/identity.py binds
the stores) and the question whether the manifest holds anything yet. Rules: one row,
`singleton = 1`; reading it takes a named lock, so of several processes starting on a new
database at once exactly one binds. The statements are manifest/statements.py's.
"""

from __future__ import annotations

from manifest import statements as sql
from manifest.postgres_common import PgQueries


class IdentityQueries(PgQueries):
    async def store_identity(self) -> str | None:
        await self._lock_name("store-identity")    # concurrent first starts: one binds
        return await self.conn.fetchval(sql.STORE_IDENTITY.pg)

    async def set_store_identity(self, store_id: str, created_at: int) -> None:
        await self.conn.execute(
            "INSERT INTO store_identity VALUES (1, $1, $2) ON CONFLICT (singleton) "
            "DO UPDATE SET store_id = excluded.store_id, created_at = excluded.created_at",
            store_id, created_at)

    async def is_empty(self) -> bool:
        """True for a manifest that holds no account, volume or chunk: a new one."""
        return not await self.conn.fetchval(sql.IS_EMPTY.pg)

    async def records_chunks(self) -> bool:
        """True if some chunk was ever recorded (uploads reached the chunk store)."""
        return await self.conn.fetchval(sql.RECORDS_CHUNKS.pg)
