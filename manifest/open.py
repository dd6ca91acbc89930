"""Open a manifest store from a `--db` URL.

Owns the choice of backend: the one place a `--db` URL (blockstore/urls.py parses it)
becomes a `ManifestStore`, SQLite or PostgreSQL. Rule: callers get the Protocol, never a
backend class, so nothing above manifest/ depends on which engine runs.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg

from blockstore.urls import url_path
from manifest.sqlite import SqliteManifest
from manifest.store import ManifestStore

# What a backend raises when its database is unusable (locked, unreachable, refused).
DB_ERRORS = (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError)


def sqlite_path(url: str) -> Path:
    """The database file of a `sqlite:///abs/path.db` URL (percent-quoted, blockstore.urls)."""
    return url_path(url, "sqlite")


async def open_manifest(url: str) -> ManifestStore:
    """`sqlite:///abs/path.db` (three slashes then the path), or
    `postgresql://USER[:PASSWORD]@HOST:PORT/DBNAME`."""
    check_db_url(url)
    if url.startswith("sqlite:"):
        return await SqliteManifest.open(sqlite_path(url))
    from manifest.postgres import PostgresManifest
    return await PostgresManifest.open(url)


def check_db_url(url: str) -> None:
    """Refuses a `--db` URL `open_manifest` would refuse, without connecting."""
    if url.startswith("sqlite:"):
        sqlite_path(url)
    elif not url.startswith(("postgresql://", "postgres://")):
        raise ValueError(f"unsupported --db URL {url.split('@')[-1]!r}: expected "
                         "sqlite:///path or postgresql://USER[:PASSWORD]@HOST:PORT/DBNAME")
