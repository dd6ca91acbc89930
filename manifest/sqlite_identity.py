"""The store identity binding's queries, SQLite side.

Owns the reads and writes of the `store_identity` singleton (services/identity.py binds
the stores) and the question whether the manifest holds anything yet. Rule: one row,
`singleton = 1`, replaced as a whole. The statements are manifest/statements.py's.
"""

from __future__ import annotations

from manifest import statements as sql
from manifest.sqlite_common import SqliteQueries


class IdentityQueries(SqliteQueries):
    async def store_identity(self) -> str | None:
        row = await self._one(sql.STORE_IDENTITY)
        return row[0] if row else None

    async def set_store_identity(self, store_id: str, created_at: int) -> None:
        await self.conn.execute("INSERT OR REPLACE INTO store_identity VALUES (1, ?, ?)",
                                (store_id, created_at))

    async def is_empty(self) -> bool:
        """True for a manifest that holds no account, volume or chunk: a new one."""
        row = await self._one(sql.IS_EMPTY)
        return not row[0]

    async def records_chunks(self) -> bool:
        """True if some chunk was ever recorded (uploads reached the chunk store)."""
        return (await self._one(sql.RECORDS_CHUNKS))[0] == 1
