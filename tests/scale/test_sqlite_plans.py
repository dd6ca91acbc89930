"""The SQLite backend answers the hot queries through indexes, never a table scan.

What SQLite's planner says for each statement shape that the scale work depends on
(migration 0009): a `SCAN` of `blocks`, `account_chunks` or `snapshots` would make the
cost follow the size of the store again.
"""

from __future__ import annotations

import re

import pytest

from manifest.sqlite_blocks import _NEWEST
from tests.gc.manifest_builder import open_store

QUERIES = {
    "changes between two versions":
        "SELECT DISTINCT chunk_index FROM blocks WHERE vid = ? AND +chunk_index >= ? AND "
        "version > ? AND version <= ? ORDER BY chunk_index LIMIT ?",
    "rows a view reads at given chunks":
        "SELECT b.chunk_index, b.token, b.version FROM blocks b WHERE b.vid = ? AND "
        f"b.chunk_index IN (?, ?) AND b.version <= ? AND {_NEWEST} ORDER BY b.chunk_index",
    "GC token check":
        "WITH wanted(token) AS (VALUES (?), (?)) SELECT w.token FROM wanted w "
        "WHERE EXISTS (SELECT 1 FROM blocks b WHERE b.token = w.token)",
    "GC forgets account rows":
        "DELETE FROM account_chunks WHERE token IN (?, ?)",
    "pending snapshots of a volume":
        "SELECT sid FROM snapshots s WHERE s.vid = ? AND s.state = 'PENDING' "
        "AND s.deleted_at IS NULL ORDER BY s.version",
    "pending snapshots of an account":
        "SELECT COUNT(*) FROM snapshots WHERE account_id = ? AND state = 'PENDING' AND "
        "deleted_at IS NULL",
    "clones of a volume":
        "SELECT vid FROM volumes WHERE source_vid = ? ORDER BY vid",
    "latest snapshot of a volume":
        "SELECT sid FROM snapshots s WHERE s.vid = ? AND s.deleted_at IS NULL "
        "ORDER BY s.version DESC LIMIT 1",
}


@pytest.mark.parametrize("name", QUERIES)
async def test_hot_query_uses_an_index(tmp_path, name):
    store = await open_store(tmp_path)
    try:
        sql = QUERIES[name]
        async with store.read() as tx:
            plan = [r[3] for r in await tx._all(f"EXPLAIN QUERY PLAN {sql}",
                                                [1] * sql.count("?"))]
        pattern = r"SCAN (blocks|account_chunks|snapshots|volumes|[bns])\b"
        scans = [p for p in plan if re.match(pattern, p)]
        assert not scans, f"{name}: {plan}"
    finally:
        await store.close()
