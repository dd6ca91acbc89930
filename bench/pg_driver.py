"""Measure asyncpg against psycopg 3 on the manifest's hot query shapes.

Starts a throwaway PostgreSQL cluster (tests/pgserver.py) and times, per driver:
a 1,000-row block upsert in one transaction (an upload commit), 1,000 point lookups
each in its own short transaction (auth + target checks), and 1,000 INSERT ... ON
CONFLICT of chunk rows. Prints seconds per phase; the manifest backend uses the faster.

    .venv/bin/python bench/pg_driver.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from tests.pgserver import remove, start_cluster  # noqa: E402

SCHEMA = ("CREATE TABLE IF NOT EXISTS b (vid BIGINT, idx BIGINT, ver BIGINT, tok BYTEA, "
          "PRIMARY KEY (vid, idx, ver))")
N = 1000


async def run_asyncpg(url: str) -> dict[str, float]:
    import asyncpg
    async def no_reset(conn) -> None:
        pass     # our transactions leave no session state behind; skip RESET ALL & co.

    pool = await asyncpg.create_pool(url, min_size=4, max_size=4, reset=no_reset)
    async with pool.acquire() as c:
        await c.execute(SCHEMA)
        await c.execute("TRUNCATE b")
    out = {}
    t = time.perf_counter()
    for rnd in range(5):
        async with pool.acquire() as c, c.transaction():
            await c.executemany("INSERT INTO b VALUES ($1,$2,$3,$4) ON CONFLICT (vid, idx, ver) "
                                "DO UPDATE SET tok = excluded.tok",
                                [(1, i, rnd, os.urandom(32)) for i in range(N)])
    out["upsert 5x1000 rows"] = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(N):
        async with pool.acquire() as c, c.transaction():
            await c.fetchrow("SELECT tok FROM b WHERE vid = $1 AND idx = $2 AND ver = 0", 1, i)
    out["1000 point lookups"] = time.perf_counter() - t
    t = time.perf_counter()
    async with pool.acquire() as c:
        rows = await c.fetch("SELECT idx, tok FROM b WHERE vid = 1")
    out[f"fetch {len(rows)} rows"] = time.perf_counter() - t
    await pool.close()
    return out


async def run_psycopg(url: str) -> dict[str, float]:
    from psycopg_pool import AsyncConnectionPool
    pool = AsyncConnectionPool(url, min_size=4, max_size=4, open=False)
    await pool.open()
    async with pool.connection() as c:
        await c.execute(SCHEMA)
        await c.execute("TRUNCATE b")
    out = {}
    t = time.perf_counter()
    for rnd in range(5):
        async with pool.connection() as c, c.transaction(), c.cursor() as cur:
            await cur.executemany("INSERT INTO b VALUES (%s,%s,%s,%s) ON CONFLICT (vid, idx, ver) "
                                  "DO UPDATE SET tok = excluded.tok",
                                  [(1, i, rnd, os.urandom(32)) for i in range(N)])
    out["upsert 5x1000 rows"] = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(N):
        async with pool.connection() as c, c.transaction():
            cur = await c.execute("SELECT tok FROM b WHERE vid = %s AND idx = %s AND ver = 0",
                                  (1, i))
            await cur.fetchone()
    out["1000 point lookups"] = time.perf_counter() - t
    t = time.perf_counter()
    async with pool.connection() as c:
        cur = await c.execute("SELECT idx, tok FROM b WHERE vid = 1")
        rows = await cur.fetchall()
    out[f"fetch {len(rows)} rows"] = time.perf_counter() - t
    await pool.close()
    return out


async def main() -> None:
    cluster = start_cluster()
    try:
        for name, fn in (("asyncpg", run_asyncpg), ("psycopg3", run_psycopg),
                         ("asyncpg", run_asyncpg), ("psycopg3", run_psycopg)):
            for phase, secs in (await fn(cluster.url())).items():
                print(f"{name:9} {phase:22} {secs * 1000:8.1f} ms")
    finally:
        remove(cluster)


if __name__ == "__main__":
    asyncio.run(main())
