"""Queries for garbage collection and verification (services/gc.py, services/verify.py),
PostgreSQL side.

Owns the same work as manifest/sqlite_maintenance.py, under the same visibility rule
(manifest/visibility.py). Rules: the GC sweep's re-check and deletes take the chunk-row
advisory lock exclusively, so no upload commit in flight can re-reference a chunk being
forgotten; token sets travel as one array parameter. Portable statements are
manifest/statements.py's.
"""

from __future__ import annotations

from typing import Iterable

from manifest import statements as sql
from manifest.models import ChunkRecord, TokenUse, Volume
from manifest.postgres_common import PgQueries, _count, any_token
from manifest.rows import _volume
from manifest.visibility import READERS


class MaintenanceQueries(PgQueries):
    async def block_vids(self) -> list[int]:
        """Every volume (deleted or not) that still has block rows."""
        return [r[0] for r in await self._all(sql.BLOCK_VIDS.pg)]

    async def compact_blocks(self, vid: int | None = None) -> int:
        """Delete every block row no reader can see (of one volume, or of all); returns
        how many went. The readers are manifest/visibility.py's, as SQLite's."""
        return _count(await self.conn.execute(
            READERS + ","
            " ranked AS (SELECT vid, chunk_index, version, LEAD(version) OVER ("
            "    PARTITION BY vid, chunk_index ORDER BY version) AS next_version FROM blocks"
            "    WHERE $1::bigint IS NULL OR vid = $1)"
            " DELETE FROM blocks b USING ranked k WHERE b.vid = k.vid"
            "  AND b.chunk_index = k.chunk_index AND b.version = k.version AND NOT EXISTS ("
            "    SELECT 1 FROM readers r WHERE r.vid = k.vid AND r.version >= k.version"
            "      AND (k.next_version IS NULL OR r.version < k.next_version))", vid))

    async def referenced_tokens(self, tokens: Iterable[bytes]) -> set[bytes]:
        """The subset of `tokens` that some block row points at. In a write transaction
        (the GC sweep's re-check) it first waits out every upload commit in flight."""
        await self._lock_chunk_rows(exclusive=True)
        rows = await self._all("SELECT t FROM unnest($1::bytea[]) AS w(t) WHERE EXISTS "
                               "(SELECT 1 FROM blocks b WHERE b.token = w.t)",
                               list(set(tokens)))
        return {r[0] for r in rows}

    async def referenced_tokens_after(self, after: bytes, limit: int) -> list[bytes]:
        """Distinct tokens of block rows above `after`, ascending (pages of the mark set)."""
        rows = await self._all(sql.REFERENCED_TOKENS_AFTER.pg, after, limit)
        return [r[0] for r in rows]

    async def chunk_tokens_after(self, after: bytes, limit: int) -> list[bytes]:
        rows = await self._all(sql.CHUNK_TOKENS_AFTER.pg, after, limit)
        return [r[0] for r in rows]

    async def chunk_records(self, tokens: Iterable[bytes]) -> list[ChunkRecord]:
        tokens = list(set(tokens))
        owners: dict[bytes, list[str]] = {}
        for token, account in await self._all(any_token(sql.CHUNK_OWNERS), tokens):
            owners.setdefault(token, []).append(account)
        return [ChunkRecord(token, plain, stored, created, tuple(sorted(owners.get(token, ()))))
                for token, plain, stored, created in await self._all(
                    any_token(sql.CHUNK_ROWS), tokens)]

    async def delete_chunk_rows(self, tokens: Iterable[bytes]) -> None:
        """Forget chunks: no account may reference them, FindMissingChunks says missing."""
        tokens = sorted(set(tokens))
        await self._lock_chunk_rows(exclusive=True)
        await self.conn.execute(any_token(sql.FORGET_OWNERS), tokens)
        await self.conn.execute(any_token(sql.FORGET_CHUNKS), tokens)

    async def restore_chunk_rows(self, records: Iterable[ChunkRecord]) -> None:
        records = sorted(records, key=lambda r: r.token)
        await self.conn.execute(
            "INSERT INTO chunks SELECT * FROM unnest($1::bytea[], $2::bigint[], $3::bigint[], "
            "$4::bigint[]) ON CONFLICT DO NOTHING", [r.token for r in records],
            [r.plain_length for r in records], [r.stored_length for r in records],
            [r.created_at for r in records])
        pairs = [(a, r.token) for r in records for a in r.accounts]
        await self.conn.execute(
            "INSERT INTO account_chunks SELECT * FROM unnest($1::text[], $2::bytea[]) "
            "ON CONFLICT DO NOTHING", [a for a, _ in pairs], [t for _, t in pairs])

    async def token_uses(self, tokens: Iterable[bytes]) -> list[TokenUse]:
        """Every block row pointing at one of `tokens`, with the version of the next row."""
        rows = await self._all(any_token(sql.TOKEN_USES), list(set(tokens)))
        return [TokenUse(*r) for r in rows]

    async def live_clones(self, snapshot_id: str) -> list[Volume]:
        rows = await self._all(sql.LIVE_CLONES.pg, snapshot_id)
        return [_volume(r) for r in rows]

    async def get_lease(self, name: str) -> tuple[str, float] | None:
        await self._lock_name("lease", name)
        row = await self._one(sql.GC_LEASE.pg, name)
        return (row[0], row[1]) if row else None

    async def put_lease(self, name: str, holder: str, expires_at: float) -> None:
        await self.conn.execute(
            "INSERT INTO gc_lease VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE "
            "SET holder = excluded.holder, expires_at = excluded.expires_at",
            name, holder, expires_at)

    async def drop_lease(self, name: str, holder: str) -> None:
        await self.conn.execute(sql.DROP_GC_LEASE.pg, name, holder)

    async def integrity_check(self) -> list[str]:
        """["ok"], or what is wrong: pages and indexes are PostgreSQL's own business (WAL),
        so this checks what no constraint declares: block rows of volumes that are gone."""
        orphans = await self.conn.fetchval(
            "SELECT COUNT(*) FROM (SELECT DISTINCT vid FROM blocks) b "
            "WHERE NOT EXISTS (SELECT 1 FROM volumes v WHERE v.vid = b.vid)")
        return [f"block rows of {orphans} unknown volume(s)"] if orphans else ["ok"]
