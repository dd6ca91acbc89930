"""The queries of `ManifestTx` for PostgreSQL: accounts, volumes, snapshots, idempotency.

Owns `PostgresTx`, one transaction's view, assembled from the query mixins of the other
postgres_* modules. Rules: every query on accounts' objects is scoped by `account_id`;
deleted volumes and snapshots are invisible to these lookups; in a write transaction,
reading a volume or snapshot locks the volume's row (manifest/postgres.py). Portable
statements are manifest/statements.py's; locks, `RETURNING` and upserts stay here.
"""

from __future__ import annotations

import json
from typing import Iterable, Sequence

from manifest import statements as sql
from manifest.models import Account, BlockRow, IdempotencyRecord, Snapshot, Volume
from manifest.postgres_common import _count, any_token
from manifest.postgres_ebs import EbsTimeoutQueries
from manifest.postgres_identity import IdentityQueries
from manifest.postgres_keys import AccessKeyQueries
from manifest.postgres_leases import VolumeLeaseQueries
from manifest.postgres_maintenance import MaintenanceQueries
from manifest.postgres_operations import OperationQueries
from manifest.postgres_planes import DataPlaneQueries
from manifest.postgres_scale import ScaleQueries
from manifest.postgres_shares import ShareQueries
from manifest.rows import SNAPSHOT_SELECT, _snapshot, _volume


CHANGED = ("SELECT DISTINCT chunk_index FROM blocks WHERE vid = $1 AND version > $2 AND "
           "version <= $3 AND chunk_index >= $4 ORDER BY chunk_index LIMIT $5")


class PostgresTx(ScaleQueries, MaintenanceQueries, IdentityQueries, VolumeLeaseQueries,
                 OperationQueries, AccessKeyQueries, DataPlaneQueries, ShareQueries,
                 EbsTimeoutQueries):
    """One transaction's view of the manifest."""

    # -- accounts --------------------------------------------------------------------
    async def insert_account(self, account: Account, token_hash: bytes) -> None:
        await self.conn.execute(sql.INSERT_ACCOUNT.pg, account.account_id, account.name,
                                token_hash, account.created_at)

    async def account_by_token_hash(self, token_hash: bytes) -> Account | None:
        row = await self._one(sql.ACCOUNT_BY_TOKEN_HASH.pg, token_hash)
        return Account(*row) if row else None

    async def account_by_name(self, name: str) -> Account | None:
        await self._lock_name("account", name)
        row = await self._one(sql.ACCOUNT_BY_NAME.pg, name)
        return Account(*row) if row else None

    async def account_count(self) -> int:
        return await self.conn.fetchval(sql.ACCOUNT_COUNT.pg)

    # -- volumes ---------------------------------------------------------------------
    async def insert_volume(self, v: Volume) -> Volume:
        vid = await self.conn.fetchval(
            "INSERT INTO volumes (volume_id, account_id, size_bytes, chunk_size, "
            "source_snapshot_id, open_version, labels, created_at, source_vid, no_export) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8, "
            "(SELECT vid FROM snapshots WHERE snapshot_id = $5), $9) RETURNING vid",
            v.volume_id, v.account_id, v.size_bytes, v.chunk_size, v.source_snapshot_id or None,
            v.open_version, json.dumps(v.labels, sort_keys=True), v.created_at, v.no_export)
        return v.replace(vid=vid)

    async def get_volume(self, account_id: str, volume_id: str) -> Volume | None:
        lock = " FOR UPDATE" if self.write else ""
        row = await self._one(sql.VOLUME.pg + lock, volume_id, account_id)
        return _volume(row) if row else None

    async def get_volume_by_vid(self, vid: int) -> Volume | None:
        row = await self._one(sql.VOLUME_BY_VID.pg, vid)
        return _volume(row) if row else None

    async def list_volumes(self, account_id: str, after: str, limit: int) -> list[Volume]:
        rows = await self._all(sql.VOLUMES.pg, account_id, after, limit)
        return [_volume(r) for r in rows]

    async def set_open_version(self, vid: int, open_version: int) -> None:
        await self.conn.execute(sql.SET_OPEN_VERSION.pg, open_version, vid)

    async def mark_volume_deleted(self, vid: int, deleted_at: int) -> None:
        await self.conn.execute(sql.MARK_VOLUME_DELETED.pg, deleted_at, vid)

    async def count_dependent_clones(self, snapshot_id: str) -> int:
        """Volumes cloned from the snapshot that still read through it: live ones, and
        deleted ones whose own snapshots survive."""
        return await self.conn.fetchval(sql.COUNT_DEPENDENT_CLONES.pg, snapshot_id)

    async def clone_vids(self, vid: int) -> list[int]:
        """Volumes (deleted or not) cloned from any snapshot of volume `vid`.

        In a write transaction it locks their rows: `complete_ready` then completes the
        clones' snapshots, and one that a clone's own writer is adding right now (having
        seen the source still pending) must be committed and visible first, or nobody
        would complete it. Locks go from a source to its clones only, never upwards, so
        two such walks cannot deadlock."""
        lock = " FOR UPDATE" if self.write else ""
        rows = await self._all(sql.CLONE_VIDS.pg + lock, vid)
        return [r[0] for r in rows]

    async def count_pending_snapshots(self, account_id: str) -> int:
        await self._lock_name("pending", account_id)
        return await self.conn.fetchval(sql.COUNT_PENDING_SNAPSHOTS.pg, account_id)

    # -- snapshots -------------------------------------------------------------------
    async def insert_snapshot(self, s: Snapshot) -> Snapshot:
        sid = await self.conn.fetchval(
            sql.INSERT_SNAPSHOT.pg + " RETURNING sid",
            s.snapshot_id, s.account_id, s.vid, s.version, s.mode.value, s.state.value,
            s.progress, s.size_bytes, s.chunk_size, s.parent_snapshot_id or None,
            s.description, json.dumps(s.labels, sort_keys=True), s.created_at, s.completed_at)
        return s.replace(sid=sid)

    async def get_snapshot(self, account_id: str, snapshot_id: str) -> Snapshot | None:
        if self.write:
            # Lock the volume row first, then read the snapshot in a fresh statement: one
            # that waited for the lock would otherwise return the snapshot as it was.
            await self.conn.execute(
                "SELECT 1 FROM volumes v JOIN snapshots s ON s.vid = v.vid "
                "WHERE s.snapshot_id = $1 AND s.account_id = $2 FOR UPDATE OF v",
                snapshot_id, account_id)
        row = await self._one(sql.SNAPSHOT.pg, snapshot_id, account_id)
        return _snapshot(row) if row else None

    async def list_snapshots(self, account_id: str, volume_id: str | None, after: str,
                             limit: int) -> list[Snapshot]:
        rows = await self._all(
            f"{SNAPSHOT_SELECT} WHERE s.account_id = $1 AND s.deleted_at IS NULL AND "
            "s.snapshot_id > $2 AND ($3::text IS NULL OR v.volume_id = $3) "
            "ORDER BY s.snapshot_id LIMIT $4", account_id, after, volume_id, limit)
        return [_snapshot(r) for r in rows]

    async def get_snapshot_any(self, snapshot_id: str) -> Snapshot | None:
        """By id alone, deleted or not: lineage reads follow a clone's source this way."""
        row = await self._one(sql.SNAPSHOT_ANY.pg, snapshot_id)
        return _snapshot(row) if row else None

    async def volume_snapshots(self, vid: int) -> list[Snapshot]:
        rows = await self._all(sql.VOLUME_SNAPSHOTS.pg, vid)
        return [_snapshot(r) for r in rows]

    async def update_snapshot(self, s: Snapshot) -> None:
        await self.conn.execute(
            sql.UPDATE_SNAPSHOT.pg, s.state.value, s.progress, s.completed_at, s.deleted_at, s.sid)

    # -- idempotency -----------------------------------------------------------------
    async def get_idempotency(self, account_id: str, operation: str,
                              key: str) -> IdempotencyRecord | None:
        # Concurrent creates with one key queue here; the second sees the first's record.
        await self._lock_name("idempotency", account_id, operation, key)
        row = await self._one(sql.IDEMPOTENCY.pg, account_id, operation, key)
        return IdempotencyRecord(*row) if row else None

    async def purge_idempotency(self, created_before: int, limit: int) -> int:
        """Delete up to `limit` records created before `created_before`, oldest first."""
        return _count(await self.conn.execute(
            "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys "
            "WHERE created_at < $1 ORDER BY created_at LIMIT $2)", created_before, limit))

    async def put_idempotency(self, account_id: str, operation: str, key: str,
                              record: IdempotencyRecord) -> None:
        await self.conn.execute(
            "INSERT INTO idempotency_keys VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT "
            "(account_id, operation, key) DO UPDATE SET fingerprint = excluded.fingerprint, "
            "result = excluded.result, created_at = excluded.created_at",
            account_id, operation, key, record.fingerprint, record.result, record.created_at)

    # -- blocks and chunks -----------------------------------------------------------
    async def upsert_blocks(self, vid: int, version: int,
                            rows: Sequence[tuple[int, bytes | None]]) -> None:
        last = dict(rows)     # one statement may not touch a row twice; the last one wins
        await self._lock_chunk_rows(exclusive=False)
        await self.conn.execute(
            "INSERT INTO blocks SELECT $1, i, $2, t FROM unnest($3::bigint[], $4::bytea[]) "
            "AS r(i, t) ON CONFLICT (vid, chunk_index, version) DO UPDATE "
            "SET token = excluded.token", vid, version, list(last), list(last.values()))

    async def newest_rows(self, vid: int, max_version: int, first_index: int,
                          last_index: int, limit: int | None = None) -> list[BlockRow]:
        rows = await self._all(
            "SELECT DISTINCT ON (chunk_index) chunk_index, token, version FROM blocks "
            "WHERE vid = $1 AND version <= $2 AND chunk_index BETWEEN $3 AND $4 "
            "ORDER BY chunk_index, version DESC LIMIT $5",
            vid, max_version, first_index, last_index, limit)
        return [BlockRow(idx, token, version) for idx, token, version in rows]

    async def changed_indexes(self, vid: int, above_version: int, max_version: int,
                              first_index: int, limit: int) -> list[int]:
        """Chunk indexes with a row in (above_version, max_version]: change candidates."""
        if above_version >= 1:
            return [r[0] for r in await self._all(CHANGED, vid, above_version, max_version,
                                                  first_index, limit)]
        # Every row up to max_version: the primary key's own order, no sort needed. On rows
        # without planner statistics yet (just bulk-loaded) PostgreSQL otherwise reads
        # blocks_by_version and sorts every row from first_index on, per page (12-38 ms
        # a page of 1,000, pages x rows a listing); with sorting off it walks the primary
        # key (0.4 ms), as it does anyway once the table is analyzed (docs/postgresql.md).
        await self.conn.execute("SET LOCAL enable_sort = off")
        rows = await self._all(CHANGED, vid, above_version, max_version, first_index, limit)
        await self.conn.execute("SET LOCAL enable_sort = on")
        return [r[0] for r in rows]

    async def tokens_known(self, account_id: str, tokens: Iterable[bytes]) -> set[bytes]:
        await self._lock_chunk_rows(exclusive=False)
        rows = await self._all("SELECT token FROM account_chunks WHERE account_id = $1 "
                               "AND token = ANY($2::bytea[])", account_id, list(set(tokens)))
        return {r[0] for r in rows}

    async def add_account_tokens(self, account_id: str, tokens: Iterable[bytes]) -> None:
        await self._lock_chunk_rows(exclusive=False)
        await self.conn.execute(
            "INSERT INTO account_chunks SELECT $1, t FROM unnest($2::bytea[]) AS r(t) "
            "ON CONFLICT DO NOTHING", account_id, sorted(set(tokens)))

    async def record_chunks(self, chunks: Iterable[tuple[bytes, int, int]],
                            created_at: int) -> None:
        chunks = {t: (plain, stored) for t, plain, stored in sorted(chunks)}
        await self._lock_chunk_rows(exclusive=False)
        await self.conn.execute(
            "INSERT INTO chunks SELECT t, p, s, $4 FROM unnest($1::bytea[], $2::bigint[], "
            "$3::bigint[]) AS r(t, p, s) ON CONFLICT DO NOTHING", list(chunks),
            [p for p, _ in chunks.values()], [s for _, s in chunks.values()], created_at)

    async def chunk_lengths(self, tokens: Iterable[bytes]) -> dict[bytes, int]:
        rows = await self._all(any_token(sql.CHUNK_LENGTHS), list(set(tokens)))
        return {t: n for t, n in rows}
