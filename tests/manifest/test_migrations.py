"""Both backends stay at one schema version: each SQLite migration has a PostgreSQL twin
of the same name, and a database opened twice (or by several processes) applies each
migration once."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from manifest import ManifestTx, open_manifest
from manifest.migrations import migrations
from manifest.postgres_migrate import pg_migrations
from manifest.postgres_tx import PostgresTx
from manifest.sqlite_tx import SqliteTx


def test_every_sqlite_migration_has_a_postgresql_twin():
    sqlite_names = [name for _, name, _ in migrations()]
    pg_names = [name for _, name, _ in pg_migrations()]
    missing = sorted(set(sqlite_names) - set(pg_names))
    assert not missing, ("port each SQLite migration to manifest/migrations/postgresql/ "
                         f"under the same file name; missing: {missing}")
    assert pg_names == sqlite_names, "no PostgreSQL-only migration either"


@pytest.mark.parametrize("backend", [SqliteTx, PostgresTx])
def test_every_backend_implements_the_whole_manifest_protocol(backend):
    wanted = {name for role in ManifestTx.__mro__ for name, fn in vars(role).items()
              if inspect.iscoroutinefunction(fn)}
    assert len(wanted) > 60, f"the role Protocols declare the transaction's methods: {wanted}"
    missing = sorted(name for name in wanted if not inspect.iscoroutinefunction(
        getattr(backend, name, None)))
    assert not missing, f"{backend.__name__} lacks ManifestTx methods: {missing}"


async def test_concurrent_opens_apply_each_postgresql_migration_once(pg_cluster):
    import asyncpg
    url = pg_cluster.url("blank")
    admin = await asyncpg.connect(pg_cluster.url("postgres"))
    await admin.execute("CREATE DATABASE blank")
    await admin.close()
    stores = await asyncio.gather(*(open_manifest(url) for _ in range(4)))
    for store in stores:
        await store.close()
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    assert [r[0] for r in rows] == [v for v, _, _ in pg_migrations()], \
        "four processes opening a blank database at once apply each migration exactly once"
