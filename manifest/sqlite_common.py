"""Shared pieces of the SQLite queries: column lists, row decoding, batching."""

from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

import aiosqlite

from manifest.models import Snapshot, SnapshotMode, SnapshotState, Volume

VOLUME_COLS = ("vid, volume_id, account_id, size_bytes, chunk_size, source_snapshot_id, "
               "open_version, created_at, labels, deleted_at")
SNAPSHOT_COLS = ("sid, snapshot_id, account_id, vid, version, mode, state, progress, "
                 "size_bytes, chunk_size, parent_snapshot_id, description, created_at, "
                 "completed_at, labels, deleted_at")
SNAPSHOT_SELECT = (f"SELECT {', '.join('s.' + c.strip() for c in SNAPSHOT_COLS.split(','))}, "
                   "v.volume_id FROM snapshots s JOIN volumes v ON v.vid = s.vid")
MAX_VARS = 500  # stay well below SQLite's host-parameter limit


def _volume(row: Sequence[Any]) -> Volume:
    (vid, volume_id, account_id, size, chunk, source, open_version, created, labels,
     deleted) = row
    return Volume(vid, volume_id, account_id, size, chunk, source or "", open_version,
                  created, json.loads(labels), deleted)


def _snapshot(row: Sequence[Any]) -> Snapshot:
    (sid, snapshot_id, account_id, vid, version, mode, state, progress, size, chunk, parent,
     description, created, completed, labels, deleted, volume_id) = row
    return Snapshot(sid, snapshot_id, account_id, vid, volume_id, version, SnapshotMode(mode),
                    SnapshotState(state), progress, size, chunk, parent or "", description,
                    created, completed, json.loads(labels), deleted)


def _batches(items: list, size: int = MAX_VARS) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class SqliteQueries:
    """A connection inside one transaction, with small fetch helpers."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list:
        async with self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self.conn.execute(sql, params) as cur:
            return await cur.fetchone()
