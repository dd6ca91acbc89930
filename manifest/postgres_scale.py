"""PostgreSQL twins of the queries whose cost follows the work (manifest/sqlite_blocks.py,
the snapshot lookups of manifest/sqlite_tx.py, compaction in short transactions)."""

from __future__ import annotations

from typing import Sequence

from manifest.models import BlockRow, Snapshot
from manifest.postgres_common import PgQueries
from manifest.rows import SNAPSHOT_SELECT, _snapshot
from manifest.visibility import END, READERS, invisible


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
        row = await self._one(f"{SNAPSHOT_SELECT} WHERE s.vid = $1 AND s.deleted_at IS NULL "
                              "ORDER BY s.version DESC LIMIT 1", vid)
        return _snapshot(row) if row else None

    async def pending_snapshots(self, vid: int) -> list[Snapshot]:
        rows = await self._all(f"{SNAPSHOT_SELECT} WHERE s.vid = $1 AND s.state = 'PENDING' "
                               "AND s.deleted_at IS NULL ORDER BY s.version", vid)
        return [_snapshot(r) for r in rows]

    async def reader_versions(self, vid: int) -> list[int]:
        rows = await self._all(READERS + " SELECT DISTINCT version FROM readers "
                               "WHERE vid = $1 ORDER BY version", vid)
        return [r[0] for r in rows]

    async def compact_block_range(self, vid: int, first_index: int,
                                  limit: int) -> tuple[int, int | None]:
        """SqliteTx.compact_block_range's rule and bounds."""
        edge = await self._one("SELECT chunk_index FROM blocks WHERE vid = $1 AND "
                               "chunk_index >= $2 ORDER BY chunk_index, version LIMIT 1 "
                               "OFFSET $3", vid, first_index, limit)
        stop = None if edge is None else max(edge[0], first_index + 1)
        rows = await self._all("SELECT chunk_index, version FROM blocks WHERE vid = $1 AND "
                               "chunk_index >= $2 AND chunk_index < $3 ORDER BY chunk_index, "
                               "version", vid, first_index, END if stop is None else stop)
        doomed = invisible([(r[0], r[1]) for r in rows], await self.reader_versions(vid))
        if doomed:
            await self.conn.execute(
                "DELETE FROM blocks b USING unnest($2::bigint[], $3::bigint[]) AS d(i, v) "
                "WHERE b.vid = $1 AND b.chunk_index = d.i AND b.version = d.v", vid,
                [i for i, _ in doomed], [v for _, v in doomed])
        return len(doomed), stop
