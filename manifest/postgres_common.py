"""Shared pieces of the PostgreSQL queries: fetch helpers and the locks of write
transactions (see manifest/postgres.py for why each lock exists).

Owns `PgQueries` and the advisory locks. Rule: only write transactions take locks (a read
transaction never waits on one); a named lock is its own statement, so under READ
COMMITTED what follows sees every transaction that held it before.
"""

from __future__ import annotations

from typing import Any

import asyncpg

# Advisory lock of chunk rows: upload commits share it, the GC sweep takes it alone.
CHUNK_ROWS_LOCK = 0x626c6b63    # "blkc"


def any_token(template: str) -> str:
    """A manifest/statements.py template over a token set, the set one array parameter."""
    return template.format(one_of="= ANY($1::bytea[])")


def _count(status: str) -> int:
    """Rows touched, from a command status such as 'DELETE 3'."""
    return int(status.rsplit(" ", 1)[-1])


class PgQueries:
    """A connection inside one transaction; `write` says whether it may take locks."""

    def __init__(self, conn: asyncpg.Connection, *, write: bool) -> None:
        self.conn = conn
        self.write = write

    async def _all(self, sql: str, *params: Any) -> list:
        return await self.conn.fetch(sql, *params)

    async def _one(self, sql: str, *params: Any) -> Any:
        return await self.conn.fetchrow(sql, *params)

    async def _lock_name(self, *parts: str) -> None:
        """Serialize write transactions on a name that has no row to lock (yet).

        Its own statement: under READ COMMITTED the statements after it see every
        transaction that held the lock before."""
        if self.write:
            await self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                    "\x1f".join(parts))

    async def _lock_chunk_rows(self, exclusive: bool) -> None:
        if self.write:
            fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
            await self.conn.execute(f"SELECT {fn}($1)", CHUNK_ROWS_LOCK)
