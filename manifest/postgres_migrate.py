"""Versioned schema migrations for PostgreSQL: migrations/postgresql/NNNN_name.sql.

Every SQLite migration has a PostgreSQL twin with the same file name (a test checks
it), so both backends are at the same schema version. Each migration runs in its own
transaction holding one advisory lock, together with its row in `schema_migrations`:
several processes starting on one database at once apply each migration exactly once
(PostgreSQL DDL is transactional, so a failed migration leaves nothing behind).
"""

from __future__ import annotations

from importlib import resources

import asyncpg

from manifest.migrations import statements

LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
MIGRATION_LOCK = 0x626c6b6d    # "blkm": the advisory lock key of schema changes


def pg_migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("manifest.migrations").joinpath("postgresql")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text()))
    return sorted(found)


async def apply_pg_migrations(conn: asyncpg.Connection) -> int:
    """Apply every pending migration; returns the schema version now in force."""
    current = 0
    for version, name, script in pg_migrations():
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(LEDGER)
            done = await conn.fetchval("SELECT 1 FROM schema_migrations WHERE version = $1",
                                       version)
            if not done:
                for stmt in statements(script):
                    await conn.execute(stmt.rstrip(";"))
                await conn.execute("INSERT INTO schema_migrations (version, name) "
                                   "VALUES ($1, $2)", version, name)
        current = version
    return current
