"""PostgreSQL twins of the queries whose cost follows the work.

Owns the PostgreSQL side of manifest/sqlite_blocks.py's bounded reads, the snapshot
lookups of manifest/sqlite_tx.py and compaction in short transactions. Rule: each query
touches the rows it returns, never a whole volume (plans pinned where the planner would
scan: see `newest_at`). Portable statements are manifest/statements.py's.
"""

from __future__ import annotations

from typing import Sequence

from manifest import statements as sql
from manifest.models import BlockRow, Snapshot
from manifest.postgres_common import PgQueries
from manifest.rows import _snapshot
from manifest.visibility import END, invisible


class ScaleQueries(PgQueries):
    async def newest_at(self, vid: int, max_version: int,
                        indexes: Sequence[int]) -> list[BlockRow]:
        """Per given chunk index, the newest row at or below `max_version`.

        The BETWEEN keeps the planner on the primary key: given only `= ANY` of a page of
        1,000 indexes, its custom plan is a sequential scan of the whole table per page
        (EXPLAIN ANALYZE on 110,000 rows: 12-50 ms; bounded by the page's range: 0.6-3 ms),
        so listing a volume page by page would cost pages x rows."""
        wanted = sorted(set(indexes))
        if not wanted:
            return []
        rows = await self._all(
            "SELECT DISTINCT ON (chunk_index) chunk_index, token, version FROM blocks "
            "WHERE vid = $1 AND chunk_index BETWEEN $4 AND $5 AND "
            "chunk_index = ANY($2::bigint[]) AND version <= $3 "
            "ORDER BY chunk_index, version DESC", vid, wanted, max_version, wanted[0],
            wanted[-1])
        return [BlockRow(idx, token, version) for idx, token, version in rows]

    async def latest_snapshot(self, vid: int) -> Snapshot | None:
        row = await self._one(sql.LATEST_SNAPSHOT.pg, vid)
        return _snapshot(row) if row else None

    async def pending_snapshots(self, vid: int) -> list[Snapshot]:
        rows = await self._all(sql.PENDING_SNAPSHOTS.pg, vid)
        return [_snapshot(r) for r in rows]

    async def reader_versions(self, vid: int) -> list[int]:
        rows = await self._all(sql.READER_VERSIONS.pg, vid)
        return [r[0] for r in rows]

    async def compact_block_range(self, vid: int, first_index: int,
                                  limit: int) -> tuple[int, int | None]:
        """SqliteTx.compact_block_range's rule and bounds."""
        edge = await self._one(sql.COMPACTION_EDGE.pg, vid, first_index, limit)
        stop = None if edge is None else max(edge[0], first_index + 1)
        rows = await self._all(sql.COMPACTION_ROWS.pg, vid, first_index,
                               END if stop is None else stop)
        doomed = invisible([(r[0], r[1]) for r in rows], await self.reader_versions(vid))
        if doomed:
            await self.conn.execute(
                "DELETE FROM blocks b USING unnest($2::bigint[], $3::bigint[]) AS d(i, v) "
                "WHERE b.vid = $1 AND b.chunk_index = d.i AND b.version = d.v", vid,
                [i for i, _ in doomed], [v for _, v in doomed])
        return len(doomed), stop
