"""Block-row queries: what a view reads, what changed between versions, chunk bookkeeping.

Each query touches the rows it returns (plus a log factor through the primary key
`(vid, chunk_index, version)` or `blocks_by_version`), never the whole volume, so
callers page through big volumes with a bounded `limit`. The SQL is plain enough for
PostgreSQL too: no bare columns beside MAX(), no SQLite-only syntax.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from manifest import statements as sql
from manifest.models import BlockRow
from manifest.sqlite_common import SqliteQueries

# The newest row of its chunk at or below a version: no row of the chunk lies between.
_NEWEST = ("NOT EXISTS (SELECT 1 FROM blocks n WHERE n.vid = b.vid AND "
           "n.chunk_index = b.chunk_index AND n.version > b.version AND n.version <= ?)")


class BlockQueries(SqliteQueries):
    async def upsert_blocks(self, vid: int, version: int,
                            rows: Sequence[tuple[int, bytes | None]]) -> None:
        # An UPDATE, not REPLACE: the trigger of migrations/0005 records the chunk an
        # overwrite releases (a reader may still be reading it).
        await self.conn.executemany(
            "INSERT INTO blocks VALUES (?, ?, ?, ?) ON CONFLICT (vid, chunk_index, version) "
            "DO UPDATE SET token = excluded.token",
            [(vid, idx, version, token) for idx, token in rows])

    async def newest_rows(self, vid: int, max_version: int, first_index: int,
                          last_index: int, limit: int | None = None) -> list[BlockRow]:
        """Per chunk in first..last, the newest row at or below `max_version`, ascending."""
        rows = await self._all(
            "SELECT b.chunk_index, b.token, b.version FROM blocks b WHERE b.vid = ? AND "
            f"b.chunk_index BETWEEN ? AND ? AND b.version <= ? AND {_NEWEST} "
            "ORDER BY b.chunk_index LIMIT ?",
            (vid, first_index, last_index, max_version, max_version,
             -1 if limit is None else limit))
        return [BlockRow(idx, token, version) for idx, token, version in rows]

    async def newest_at(self, vid: int, max_version: int,
                        indexes: Sequence[int]) -> list[BlockRow]:
        """`newest_rows` for the given chunk indexes only (point lookups)."""
        rows = await self._all_in(
            "SELECT b.chunk_index, b.token, b.version FROM blocks b WHERE b.vid = ? AND "
            f"b.chunk_index {{one_of}} AND b.version <= ? AND {_NEWEST} "
            "ORDER BY b.chunk_index", sorted(set(indexes)), (vid,), (max_version, max_version))
        return [BlockRow(idx, token, version) for idx, token, version in rows]

    async def changed_indexes(self, vid: int, above_version: int, max_version: int,
                              first_index: int, limit: int) -> list[int]:
        """Chunk indexes >= first_index with a row in (above_version, max_version],
        ascending, at most `limit`: change candidates."""
        if above_version < 1:
            # Every row up to max_version: walk the primary key in chunk order.
            query = ("SELECT DISTINCT chunk_index FROM blocks WHERE vid = ? AND "
                     "chunk_index >= ? AND version > ? AND version <= ? "
                     "ORDER BY chunk_index LIMIT ?")
        else:
            # Only the rows written between the versions: `blocks_by_version`. The unary
            # plus keeps the planner off the primary key, whose chunk order would make
            # it walk every row of the volume.
            query = ("SELECT DISTINCT chunk_index FROM blocks WHERE vid = ? AND "
                     "+chunk_index >= ? AND version > ? AND version <= ? "
                     "ORDER BY chunk_index LIMIT ?")
        rows = await self._all(query, (vid, first_index, above_version, max_version, limit))
        return [r[0] for r in rows]

    async def tokens_known(self, account_id: str, tokens: Iterable[bytes]) -> set[bytes]:
        rows = await self._all_in("SELECT token FROM account_chunks WHERE account_id = ? "
                                  "AND token {one_of}", list(set(tokens)), (account_id,))
        return {r[0] for r in rows}

    async def add_account_tokens(self, account_id: str, tokens: Iterable[bytes]) -> None:
        await self.conn.executemany("INSERT OR IGNORE INTO account_chunks VALUES (?, ?)",
                                    [(account_id, t) for t in set(tokens)])

    async def record_chunks(self, chunks: Iterable[tuple[bytes, int, int]],
                            created_at: int) -> None:
        await self.conn.executemany("INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?)",
                                    [(t, plain, stored, created_at) for t, plain, stored in chunks])

    async def chunk_lengths(self, tokens: Iterable[bytes]) -> dict[bytes, int]:
        return dict(await self._all_in(sql.CHUNK_LENGTHS, list(set(tokens))))
