"""Open a manifest store from a `--db` URL."""

from __future__ import annotations

from pathlib import Path

from manifest.sqlite import SqliteManifest
from manifest.store import ManifestStore


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a sqlite URL: {url!r} (expected sqlite:///path)")
    return Path(url[len("sqlite://"):])


async def open_manifest(url: str) -> ManifestStore:
    """`sqlite:///abs/path.db` (three slashes then the path); `postgresql://` is planned."""
    if url.startswith("sqlite:///"):
        return await SqliteManifest.open(sqlite_path(url))
    if url.startswith(("postgresql://", "postgres://")):
        raise ValueError("the PostgreSQL manifest backend is not implemented yet; use sqlite:///")
    raise ValueError(f"unsupported --db URL {url!r}: expected sqlite:///path")
