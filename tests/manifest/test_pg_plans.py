"""PostgreSQL: the candidate query of a full ListChangedBlocks listing walks the primary key
even on rows the planner has no statistics for yet (a volume just bulk-loaded), where it
would otherwise read and sort every row from the page's first index on, for each page."""

from __future__ import annotations

import asyncpg

from manifest import open_manifest
from manifest.postgres_tx import CHANGED
from tests.backends import fresh_database


class _Explaining:
    """The transaction's connection, recording the plan of each candidate query it runs."""

    def __init__(self, conn, plans: list[str]) -> None:
        self._conn, self._plans = conn, plans

    def __getattr__(self, name):
        return getattr(self._conn, name)

    async def fetch(self, sql: str, *args):
        if sql == CHANGED:
            plan = await self._conn.fetch("EXPLAIN " + sql, *args)
            self._plans.append("\n".join(r[0] for r in plan))
        return await self._conn.fetch(sql, *args)


async def test_full_listing_candidates_walk_the_primary_key_without_statistics(pg_cluster):
    url = fresh_database(pg_cluster)
    admin = await asyncpg.connect(url)
    store = await open_manifest(url)
    try:
        await admin.execute("ALTER TABLE blocks SET (autovacuum_enabled = off)")  # no ANALYZE
        await admin.execute("INSERT INTO blocks SELECT 1, i, 2, NULL "
                            "FROM generate_series(0, 49999) AS i")
        plans: list[str] = []
        async with store.read() as tx:
            tx.conn = _Explaining(tx.conn, plans)
            got = await tx.changed_indexes(1, 0, 2, 20000, 1000)
            tx.conn = tx.conn._conn
            assert await tx.changed_indexes(1, 1, 2, 49990, 1000) == list(range(49990, 50000))
        assert got == list(range(20000, 21000))
        assert len(plans) == 1 and "blocks_pkey" in plans[0] and "Sort" not in plans[0], plans
    finally:
        await store.close()
        await admin.close()
