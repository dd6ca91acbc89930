"""Manifest backends every backend-parametrized suite runs on, the BuildGrid way: one
fixture parameter per backend, so each test of the suite runs on each.

- `sqlite`: a fresh SQLite file in the test's temporary directory;
- `postgresql`: a fresh database in the session's throwaway cluster (tests/pgserver.py),
  copied from a template that already holds the schema, so it costs milliseconds.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from blockstore.urls import file_url, sqlite_url, url_path
from tests.pgserver import PgCluster, remove, start_cluster

BACKENDS = ("sqlite", "postgresql")
TEMPLATE = "blockstore_template"
_databases = itertools.count()


async def _admin(cluster: PgCluster, *statements: str) -> None:
    import asyncpg
    conn = await asyncpg.connect(cluster.url("postgres"))
    try:
        for stmt in statements:
            await conn.execute(stmt)
    finally:
        await conn.close()


def make_template(cluster: PgCluster) -> None:
    """A database with every migration applied, to copy per test."""
    from manifest.postgres import PostgresManifest

    async def go() -> None:
        await _admin(cluster, f"CREATE DATABASE {TEMPLATE}")
        store = await PostgresManifest.open(cluster.url(TEMPLATE))
        await store.close()
    asyncio.run(go())


@contextmanager
def template_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL cluster with the migrated template database, removed afterwards."""
    cluster = start_cluster()
    try:
        make_template(cluster)
        yield cluster
    finally:
        remove(cluster)


def fresh_database(cluster: PgCluster) -> str:
    """Callable from sync and async fixtures alike (its own loop, on its own thread)."""
    name = f"t{next(_databases)}"
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _admin(cluster, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
                    ).result()
    return cluster.url(name)


def db_url(backend: str, tmp: Path, cluster: PgCluster | None) -> str:
    if backend == "sqlite":
        return sqlite_url(tmp / "manifest.db")
    assert cluster is not None
    return fresh_database(cluster)


class StorePair:
    """A manifest and a chunk store a server is started on, and how a test opens them
    itself: `sqlite+dir` (the embedded defaults) or `pg+s3` (PostgreSQL + SeaweedFS)."""

    def __init__(self, request, data_dir: Path) -> None:
        self.backend, self.env = request.param, {}
        pg = request.getfixturevalue("pg_cluster") if self.backend == "pg+s3" else None
        self.db = db_url("postgresql" if pg else "sqlite", data_dir, pg)
        self.chunks = file_url(data_dir / "chunks")
        if pg:
            weed = request.getfixturevalue("seaweedfs")
            self.chunks = weed.url("blockstore", f"{data_dir.parent.name}-{next(_databases)}")
            self.env = weed.env()

    def server_args(self) -> list[str]:
        return ["--db", self.db, "--chunks", self.chunks]

    def chunk_store(self):
        from chunkstore import LocalChunkStore
        from chunkstore.s3 import S3ChunkStore
        from chunkstore.s3_config import parse_s3_url
        if self.env:
            return S3ChunkStore(parse_s3_url(self.chunks, self.env))
        return LocalChunkStore(url_path(self.chunks, "file"), fsync=False)
