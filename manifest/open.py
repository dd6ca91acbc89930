"""Open a manifest store from a `--db` URL."""

from __future__ import annotations

from pathlib import Path

from blockstore.urls import url_path
from manifest.sqlite import SqliteManifest
from manifest.store import ManifestStore


def sqlite_path(url: str) -> Path:
    """The database file of a `sqlite:///abs/path.db` URL (percent-quoted, blockstore.urls)."""
    return url_path(url, "sqlite")


async def open_manifest(url: str) -> ManifestStore:
    """`sqlite:///abs/path.db` (three slashes then the path), or
    `postgresql://USER[:PASSWORD]@HOST:PORT/DBNAME`."""
    if url.startswith("sqlite:"):
        return await SqliteManifest.open(sqlite_path(url))
    if url.startswith(("postgresql://", "postgres://")):
        from manifest.postgres import PostgresManifest   # asyncpg only when asked for
        return await PostgresManifest.open(url)
    raise ValueError(f"unsupported --db URL {url.split('@')[-1]!r}: expected sqlite:///path "
                     "or postgresql://USER[:PASSWORD]@HOST:PORT/DBNAME")
