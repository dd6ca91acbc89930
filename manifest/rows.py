"""Column lists and row decoding shared by the SQLite and PostgreSQL backends.

Owns `VOLUME_COLS`, `SNAPSHOT_COLS`, `SNAPSHOT_SELECT` and the decoding of their rows.
Rule: both backends keep the same tables and columns (migrations/ and
migrations/postgresql/), so a row of `volumes` or `snapshots` reads back the same way
from either driver; a column added to one is added to both.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from manifest.models import Snapshot, SnapshotMode, SnapshotState, Volume

VOLUME_COLS = ("vid, volume_id, account_id, size_bytes, chunk_size, source_snapshot_id, "
               "open_version, created_at, labels, deleted_at, no_export")
SNAPSHOT_COLS = ("sid, snapshot_id, account_id, vid, version, mode, state, progress, "
                 "size_bytes, chunk_size, parent_snapshot_id, description, created_at, "
                 "completed_at, labels, deleted_at")
SNAPSHOT_SELECT = (f"SELECT {', '.join('s.' + c.strip() for c in SNAPSHOT_COLS.split(','))}, "
                   "v.volume_id FROM snapshots s JOIN volumes v ON v.vid = s.vid")


def _volume(row: Sequence[Any]) -> Volume:
    (vid, volume_id, account_id, size, chunk, source, open_version, created, labels,
     deleted, no_export) = row
    return Volume(vid, volume_id, account_id, size, chunk, source or "", open_version,
                  created, json.loads(labels), deleted, bool(no_export))


def _snapshot(row: Sequence[Any]) -> Snapshot:
    (sid, snapshot_id, account_id, vid, version, mode, state, progress, size, chunk, parent,
     description, created, completed, labels, deleted, volume_id) = row
    return Snapshot(sid, snapshot_id, account_id, vid, volume_id, version, SnapshotMode(mode),
                    SnapshotState(state), progress, size, chunk, parent or "", description,
                    created, completed, json.loads(labels), deleted)
