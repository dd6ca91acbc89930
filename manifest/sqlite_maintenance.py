"""Queries for garbage collection and verification (services/gc.py, services/verify.py),
SQLite side.

Owns compaction of block rows (the visibility rule is manifest/visibility.py's), the mark
and sweep reads of chunk rows and the `gc_lease` row. Rules: compaction deletes only rows
no reader can see, reading the readers in the same transaction; token sets go in batches
below SQLite's parameter limit. Portable statements are manifest/statements.py's.
"""

from __future__ import annotations

from typing import Iterable

from manifest import statements as sql
from manifest.models import ChunkRecord, TokenUse, Volume
from manifest.sqlite_common import SqliteQueries, _batches, _volume
from manifest.sqlite_textcheck import undecodable_text
from manifest.visibility import END, invisible


class MaintenanceQueries(SqliteQueries):
    async def block_vids(self) -> list[int]:
        """Every volume (deleted or not) that still has block rows."""
        return [r[0] for r in await self._all(sql.BLOCK_VIDS)]

    async def reader_versions(self, vid: int) -> list[int]:
        """The versions at which someone can read volume `vid`, ascending
        (manifest/visibility.py says who reads)."""
        rows = await self._all(sql.READER_VERSIONS, (vid,))
        return [r[0] for r in rows]

    async def compact_blocks(self, vid: int | None = None) -> int:
        """Compact one volume, or all, in this one transaction; returns rows deleted.
        (GC uses `compact_block_range` in short transactions instead.)"""
        removed = 0
        for one in [vid] if vid is not None else await self.block_vids():
            first: int | None = 0
            while first is not None:
                n, first = await self.compact_block_range(one, first, 10_000)
                removed += n
        return removed

    async def compact_block_range(self, vid: int, first_index: int,
                                  limit: int) -> tuple[int, int | None]:
        """Delete the rows no reader can see among about `limit` rows of volume `vid`
        from chunk `first_index` (whole chunks); returns how many went and the chunk
        index to continue from (None: the volume is done).

        Readers are read in the same transaction: a snapshot taken since is a new reader
        at the then open version.
        """
        edge = await self._one(sql.COMPACTION_EDGE, (vid, first_index, limit))
        stop = None if edge is None else max(edge[0], first_index + 1)
        rows = await self._all(sql.COMPACTION_ROWS,
                               (vid, first_index, END if stop is None else stop))
        doomed = [(vid, index, version) for index, version in
                  invisible(rows, await self.reader_versions(vid))]
        await self.conn.executemany("DELETE FROM blocks WHERE vid = ? AND chunk_index = ? "
                                    "AND version = ?", doomed)
        return len(doomed), stop

    async def referenced_tokens(self, tokens: Iterable[bytes]) -> set[bytes]:
        """The subset of `tokens` that some block row points at: one index probe per
        token, however many rows share it."""
        found: set[bytes] = set()
        for batch in _batches(list(set(tokens))):
            values = ",".join(["(?)"] * len(batch))
            rows = await self._all(
                f"WITH wanted(token) AS (VALUES {values}) SELECT w.token FROM wanted w "
                "WHERE EXISTS (SELECT 1 FROM blocks b WHERE b.token = w.token)", batch)
            found.update(r[0] for r in rows)
        return found

    async def referenced_tokens_after(self, after: bytes, limit: int) -> list[bytes]:
        """Distinct tokens of block rows above `after`, ascending (pages of the mark set)."""
        rows = await self._all(sql.REFERENCED_TOKENS_AFTER, (after, limit))
        return [r[0] for r in rows]

    async def chunk_tokens_after(self, after: bytes, limit: int) -> list[bytes]:
        rows = await self._all(sql.CHUNK_TOKENS_AFTER, (after, limit))
        return [r[0] for r in rows]

    async def chunk_records(self, tokens: Iterable[bytes]) -> list[ChunkRecord]:
        tokens = list(set(tokens))
        owners: dict[bytes, list[str]] = {}
        for token, account in await self._all_in(sql.CHUNK_OWNERS, tokens):
            owners.setdefault(token, []).append(account)
        return [ChunkRecord(token, plain, stored, created, tuple(sorted(owners.get(token, ()))))
                for token, plain, stored, created in await self._all_in(sql.CHUNK_ROWS, tokens)]

    async def delete_chunk_rows(self, tokens: Iterable[bytes]) -> None:
        """Forget chunks: no account may reference them, FindMissingChunks says missing."""
        tokens = list(set(tokens))
        await self._execute_in(sql.FORGET_OWNERS, tokens)
        await self._execute_in(sql.FORGET_CHUNKS, tokens)

    async def restore_chunk_rows(self, records: Iterable[ChunkRecord]) -> None:
        records = list(records)
        await self.conn.executemany(
            "INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?)",
            [(r.token, r.plain_length, r.stored_length, r.created_at) for r in records])
        await self.conn.executemany("INSERT OR IGNORE INTO account_chunks VALUES (?, ?)",
                                    [(a, r.token) for r in records for a in r.accounts])

    async def token_uses(self, tokens: Iterable[bytes]) -> list[TokenUse]:
        """Every block row pointing at one of `tokens`, with the version of the next row."""
        return [TokenUse(*r) for r in await self._all_in(sql.TOKEN_USES, list(set(tokens)))]

    async def live_clones(self, snapshot_id: str) -> list[Volume]:
        rows = await self._all(sql.LIVE_CLONES, (snapshot_id,))
        return [_volume(r) for r in rows]

    async def get_lease(self, name: str) -> tuple[str, float] | None:
        row = await self._one(sql.GC_LEASE, (name,))
        return (row[0], row[1]) if row else None

    async def put_lease(self, name: str, holder: str, expires_at: float) -> None:
        await self.conn.execute("INSERT OR REPLACE INTO gc_lease VALUES (?, ?, ?)",
                                (name, holder, expires_at))

    async def drop_lease(self, name: str, holder: str) -> None:
        await self.conn.execute(sql.DROP_GC_LEASE, (name, holder))

    async def integrity_check(self) -> list[str]:
        """SQLite's own consistency check, then every text value decoded: ["ok"] when
        the file is sound."""
        result = [r[0] for r in await self._all("PRAGMA integrity_check")]
        return (await undecodable_text(self.conn) or result) if result == ["ok"] else result
