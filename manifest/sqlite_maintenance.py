"""Queries for garbage collection and verification (services/gc.py, services/verify.py)."""

from __future__ import annotations

from typing import Iterable

from manifest.models import ChunkRecord, TokenUse, Volume
from manifest.sqlite_common import VOLUME_COLS, SqliteQueries, _batches, _volume
from manifest.sqlite_textcheck import undecodable_text
from manifest.visibility import END, READERS, invisible


class MaintenanceQueries(SqliteQueries):
    async def block_vids(self) -> list[int]:
        """Every volume (deleted or not) that still has block rows."""
        return [r[0] for r in await self._all(
            "SELECT v.vid FROM volumes v WHERE EXISTS (SELECT 1 FROM blocks b "
            "WHERE b.vid = v.vid) ORDER BY v.vid")]

    async def reader_versions(self, vid: int) -> list[int]:
        """The versions at which someone can read volume `vid`, ascending
        (manifest/visibility.py says who reads)."""
        rows = await self._all(READERS + " SELECT DISTINCT version FROM readers "
                               "WHERE vid = ? ORDER BY version", (vid,))
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
        edge = await self._one("SELECT chunk_index FROM blocks WHERE vid = ? AND "
                               "chunk_index >= ? ORDER BY chunk_index, version LIMIT 1 "
                               "OFFSET ?", (vid, first_index, limit))
        stop = None if edge is None else max(edge[0], first_index + 1)
        rows = await self._all("SELECT chunk_index, version FROM blocks WHERE vid = ? AND "
                               "chunk_index >= ? AND chunk_index < ? ORDER BY chunk_index, "
                               "version", (vid, first_index, END if stop is None else stop))
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
        rows = await self._all("SELECT DISTINCT token FROM blocks WHERE token > ? "
                               "ORDER BY token LIMIT ?", (after, limit))
        return [r[0] for r in rows]

    async def chunk_tokens_after(self, after: bytes, limit: int) -> list[bytes]:
        rows = await self._all("SELECT token FROM chunks WHERE token > ? ORDER BY token "
                               "LIMIT ?", (after, limit))
        return [r[0] for r in rows]

    async def chunk_records(self, tokens: Iterable[bytes]) -> list[ChunkRecord]:
        records = []
        for batch in _batches(list(set(tokens))):
            marks = ",".join("?" * len(batch))
            owners: dict[bytes, list[str]] = {}
            for token, account in await self._all(
                    f"SELECT token, account_id FROM account_chunks WHERE token IN ({marks})",
                    batch):
                owners.setdefault(token, []).append(account)
            for token, plain, stored, created in await self._all(
                    "SELECT token, plain_length, stored_length, created_at FROM chunks "
                    f"WHERE token IN ({marks})", batch):
                records.append(ChunkRecord(token, plain, stored, created,
                                           tuple(sorted(owners.get(token, ())))))
        return records

    async def delete_chunk_rows(self, tokens: Iterable[bytes]) -> None:
        """Forget chunks: no account may reference them, FindMissingChunks says missing."""
        for batch in _batches(list(set(tokens))):
            marks = ",".join("?" * len(batch))
            await self.conn.execute(f"DELETE FROM account_chunks WHERE token IN ({marks})", batch)
            await self.conn.execute(f"DELETE FROM chunks WHERE token IN ({marks})", batch)

    async def restore_chunk_rows(self, records: Iterable[ChunkRecord]) -> None:
        records = list(records)
        await self.conn.executemany(
            "INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?)",
            [(r.token, r.plain_length, r.stored_length, r.created_at) for r in records])
        await self.conn.executemany("INSERT OR IGNORE INTO account_chunks VALUES (?, ?)",
                                    [(a, r.token) for r in records for a in r.accounts])

    async def token_uses(self, tokens: Iterable[bytes]) -> list[TokenUse]:
        """Every block row pointing at one of `tokens`, with the version of the next row."""
        uses = []
        for batch in _batches(list(set(tokens))):
            marks = ",".join("?" * len(batch))
            rows = await self._all(
                "SELECT b.token, b.vid, b.chunk_index, b.version, (SELECT MIN(n.version) "
                "FROM blocks n WHERE n.vid = b.vid AND n.chunk_index = b.chunk_index AND "
                f"n.version > b.version) FROM blocks b WHERE b.token IN ({marks}) "
                "ORDER BY b.vid, b.chunk_index, b.version", batch)
            uses += [TokenUse(*r) for r in rows]
        return uses

    async def live_clones(self, snapshot_id: str) -> list[Volume]:
        rows = await self._all(f"SELECT {VOLUME_COLS} FROM volumes WHERE source_snapshot_id = ? "
                               "AND deleted_at IS NULL ORDER BY volume_id", (snapshot_id,))
        return [_volume(r) for r in rows]

    async def get_lease(self, name: str) -> tuple[str, float] | None:
        row = await self._one("SELECT holder, expires_at FROM gc_lease WHERE name = ?", (name,))
        return (row[0], row[1]) if row else None

    async def put_lease(self, name: str, holder: str, expires_at: float) -> None:
        await self.conn.execute("INSERT OR REPLACE INTO gc_lease VALUES (?, ?, ?)",
                                (name, holder, expires_at))

    async def drop_lease(self, name: str, holder: str) -> None:
        await self.conn.execute("DELETE FROM gc_lease WHERE name = ? AND holder = ?",
                                (name, holder))

    async def integrity_check(self) -> list[str]:
        """SQLite's own consistency check, then every text value decoded: ["ok"] when
        the file is sound."""
        result = [r[0] for r in await self._all("PRAGMA integrity_check")]
        return (await undecodable_text(self.conn) or result) if result == ["ok"] else result
