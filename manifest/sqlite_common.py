"""Shared pieces of the SQLite queries: the fetch helpers and batching.

Owns `SqliteQueries` (a connection inside one transaction) and batching. Rules:
- A query runs to its end in one call on the connection's thread (`execute_fetchall`),
  so no half-read statement outlives the call, whatever happens to the caller. A live
  statement pins its connection's WAL read snapshot across COMMIT and the next BEGIN:
  a reader cancelled just as its cursor came back (its traceback keeping the cursor)
  returned its connection to the pool still on that snapshot, and the next reader
  missed rows committed since (a download its own active-operation row).
- A list of values bound one parameter each (`IN (?, ...)`: `_all_in`, `_execute_in`)
  goes in batches of `MAX_VARS`, well below SQLite's host-parameter limit. Column lists and row decoding
are manifest/rows.py's (re-exported).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import aiosqlite

from manifest.rows import SNAPSHOT_COLS, SNAPSHOT_SELECT, VOLUME_COLS, _snapshot, _volume

__all__ = ["SNAPSHOT_COLS", "SNAPSHOT_SELECT", "VOLUME_COLS", "_snapshot", "_volume",
           "SqliteQueries", "_batches"]

MAX_VARS = 500  # stay well below SQLite's host-parameter limit


def _batches(items: list, size: int = MAX_VARS) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class SqliteQueries:
    """A connection inside one transaction, with small fetch helpers."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list:
        return list(await self.conn.execute_fetchall(sql, params))

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of a query of at most one row (every caller's is keyed or LIMIT 1)."""
        rows = await self.conn.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def _all_in(self, sql: str, values: list, before: Sequence[Any] = (),
                      after: Sequence[Any] = ()) -> list:
        """The rows of `sql` for `values`, bound at its `{one_of}` as `IN (?, ...)` a batch
        at a time, between the parameters `before` and `after`; rows in batch order."""
        rows: list = []
        for batch in _batches(values):
            one_of = f"IN ({','.join('?' * len(batch))})"
            rows += await self._all(sql.format(one_of=one_of), (*before, *batch, *after))
        return rows

    async def _execute_in(self, sql: str, values: list) -> None:
        """`sql` for `values`, bound at its `{one_of}` as `IN (?, ...)` a batch at a time."""
        for batch in _batches(values):
            one_of = f"IN ({','.join('?' * len(batch))})"
            await self.conn.execute(sql.format(one_of=one_of), batch)
