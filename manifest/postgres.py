"""PostgreSQL backend of the manifest (asyncpg, a connection pool), for many processes.

Driver: asyncpg, measured against psycopg 3 on this machine (bench/pg_driver.py): a
1,000-row upload commit 1.6x and short lookup transactions 1.5x faster.

Concurrency (the rules SQLite gets from its single writer, kept with row locks):
- `write()` runs READ COMMITTED. Every write transaction that reads a volume or one of
  its snapshots locks that volume's row first (`SELECT ... FOR UPDATE`), so writers of
  one volume (snapshot creation bumping `open_version`, upload commits checking their
  target and the earliest-outstanding rule, progress, deletes) run one after another,
  while writers of different volumes run in parallel. Each statement after the lock
  sees every commit before it, so the checks read current state. Row locks rather than
  SERIALIZABLE: the domain code runs its checks and writes inside one `async with`
  block that cannot be replayed, so a serialization failure could not be retried here
  without pushing retry loops into every caller; a lock wait cannot fail that way.
- Rows that do not exist yet cannot be locked: an idempotency key, an account name, the
  pending-snapshot count of an account and a maintenance lease are serialized with
  transaction-scoped advisory locks on their names (postgres_common.py).
- Chunk rows: upload commits take a shared advisory lock, the GC sweep's row removal an
  exclusive one, so the sweep's "still unreferenced?" re-check and its delete see no
  upload commit half-way (the same order SQLite's single writer gives services/gc.py).
- `read()` runs REPEATABLE READ READ ONLY: one consistent snapshot per transaction.
- A write commits when the block exits normally and rolls back on any exception; BEGIN,
  COMMIT and ROLLBACK run to the end even if the caller is cancelled meanwhile, and a
  connection whose state is unknown is closed rather than returned to the pool.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import asyncpg

from blockstore.urls import redacted
from manifest.postgres_migrate import apply_pg_migrations
from manifest.postgres_tx import PostgresTx

POOL_MAX = 10


async def _no_reset(conn: asyncpg.Connection) -> None:
    """Transactions leave no session state (only transaction-scoped advisory locks), so
    the pool skips asyncpg's RESET ALL round trip on every release (bench/pg_driver.py)."""


async def _through(conn: asyncpg.Connection, statement: str) -> None:
    """Run `statement` to its end even if the caller is cancelled meanwhile."""
    task = asyncio.ensure_future(conn.execute(statement))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if task.exception() is None and statement.startswith("BEGIN"):
            await _rollback(conn)
        raise


async def _rollback(conn: asyncpg.Connection) -> None:
    """Roll back; a connection whose state is unknown (the server went away) is closed
    so the pool never hands it out again. Never raises: the caller's error is the news."""
    try:
        await asyncio.shield(conn.execute("ROLLBACK"))
    except Exception:
        try:
            conn.terminate()
        except asyncpg.InterfaceError:
            pass             # the pool already took the dead connection back


async def _release(pool: asyncpg.Pool, conn: asyncpg.Connection) -> None:
    try:
        await pool.release(conn)
    except asyncpg.InterfaceError:
        pass                 # a connection lost mid-call was released by asyncpg itself


class PostgresManifest:
    """`ManifestStore` over one PostgreSQL database."""

    def __init__(self, url: str, pool: asyncpg.Pool) -> None:
        self.url = url
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> "PostgresManifest":
        dsn, pool_max = _dsn(url)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=pool_max, reset=_no_reset)
        try:
            async with pool.acquire() as conn:
                await apply_pg_migrations(conn)
        except BaseException:
            await pool.close()
            raise
        return cls(url, pool)

    @asynccontextmanager
    async def _transaction(self, begin: str, write: bool) -> AsyncIterator[PostgresTx]:
        conn = await self._pool.acquire()
        try:
            await _through(conn, begin)
            try:
                yield PostgresTx(conn, write=write)
            except BaseException:
                await _rollback(conn)
                raise
            await _through(conn, "COMMIT")
        finally:
            await asyncio.shield(_release(self._pool, conn))

    def write(self):
        return self._transaction("BEGIN ISOLATION LEVEL READ COMMITTED", True)

    def read(self):
        return self._transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", False)

    async def release_space(self, max_pages: int) -> int:
        """Nothing to do: PostgreSQL's autovacuum makes freed space reusable (returning
        it to the file system takes VACUUM FULL, an operator's offline job)."""
        return 0

    async def close(self) -> None:
        await self._pool.close()


def _dsn(url: str) -> tuple[str, int]:
    """`postgresql://USER[:PASSWORD]@HOST:PORT/DBNAME[?pool_max=N]` -> (libpq DSN, N)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname or \
            not parts.path.strip("/"):
        raise ValueError(f"--db {redacted(url)!r}: expected "
                         "postgresql://USER[:PASSWORD]@HOST:PORT/DBNAME")
    query = parse_qs(parts.query)
    pool_max = int(query.pop("pool_max", [POOL_MAX])[0])
    if pool_max < 1:
        raise ValueError("--db: pool_max must be at least 1")
    rest = "&".join(f"{k}={v[0]}" for k, v in query.items())
    return parts._replace(scheme="postgresql", query=rest).geturl(), pool_max

