"""The queries of `ManifestTx` for SQLite: accounts, volumes, snapshots, idempotency.

Owns `SqliteTx`, one transaction's view, assembled from the query mixins of the other
sqlite_* modules. Rules: every query on accounts' objects is scoped by `account_id`;
deleted volumes and snapshots are invisible to these lookups. Portable statements are
manifest/statements.py's; new ids (`lastrowid`), row counts and `INSERT OR REPLACE`
stay here.
"""

from __future__ import annotations

import json
from typing import Any

from manifest import statements as sql
from manifest.models import Account, IdempotencyRecord, Snapshot, Volume
from manifest.sqlite_blocks import BlockQueries
from manifest.sqlite_common import SNAPSHOT_SELECT, _snapshot, _volume
from manifest.sqlite_ebs import EbsTimeoutQueries
from manifest.sqlite_identity import IdentityQueries
from manifest.sqlite_keys import AccessKeyQueries
from manifest.sqlite_leases import VolumeLeaseQueries
from manifest.sqlite_maintenance import MaintenanceQueries
from manifest.sqlite_operations import OperationQueries
from manifest.sqlite_planes import DataPlaneQueries
from manifest.sqlite_shares import ShareQueries


class SqliteTx(BlockQueries, MaintenanceQueries, IdentityQueries, VolumeLeaseQueries,
               OperationQueries, AccessKeyQueries, DataPlaneQueries, ShareQueries,
               EbsTimeoutQueries):
    """One transaction's view of the manifest."""

    # -- accounts --------------------------------------------------------------------
    async def insert_account(self, account: Account, token_hash: bytes) -> None:
        await self.conn.execute(sql.INSERT_ACCOUNT, (account.account_id, account.name,
                                                     token_hash, account.created_at))

    async def account_by_token_hash(self, token_hash: bytes) -> Account | None:
        row = await self._one(sql.ACCOUNT_BY_TOKEN_HASH, (token_hash,))
        return Account(*row) if row else None

    async def account_by_name(self, name: str) -> Account | None:
        row = await self._one(sql.ACCOUNT_BY_NAME, (name,))
        return Account(*row) if row else None

    async def account_count(self) -> int:
        return (await self._one(sql.ACCOUNT_COUNT))[0]

    # -- volumes ---------------------------------------------------------------------
    async def insert_volume(self, v: Volume) -> Volume:
        cur = await self.conn.execute(
            "INSERT INTO volumes (volume_id, account_id, size_bytes, chunk_size, "
            "source_snapshot_id, open_version, labels, created_at, source_vid, no_export) "
            "VALUES (?,?,?,?,?,?,?,?, (SELECT vid FROM snapshots WHERE snapshot_id = ?), ?)",
            (v.volume_id, v.account_id, v.size_bytes, v.chunk_size, v.source_snapshot_id or None,
             v.open_version, json.dumps(v.labels, sort_keys=True), v.created_at,
             v.source_snapshot_id or None, int(v.no_export)))
        return v.replace(vid=cur.lastrowid)

    async def get_volume(self, account_id: str, volume_id: str) -> Volume | None:
        row = await self._one(sql.VOLUME, (volume_id, account_id))
        return _volume(row) if row else None

    async def get_volume_by_vid(self, vid: int) -> Volume | None:
        row = await self._one(sql.VOLUME_BY_VID, (vid,))
        return _volume(row) if row else None

    async def list_volumes(self, account_id: str, after: str, limit: int) -> list[Volume]:
        rows = await self._all(sql.VOLUMES, (account_id, after, limit))
        return [_volume(r) for r in rows]

    async def set_open_version(self, vid: int, open_version: int) -> None:
        await self.conn.execute(sql.SET_OPEN_VERSION, (open_version, vid))

    async def mark_volume_deleted(self, vid: int, deleted_at: int) -> None:
        await self.conn.execute(sql.MARK_VOLUME_DELETED, (deleted_at, vid))

    async def count_dependent_clones(self, snapshot_id: str) -> int:
        """Volumes cloned from the snapshot that still read through it: live ones, and
        deleted ones whose own snapshots survive."""
        return (await self._one(sql.COUNT_DEPENDENT_CLONES, (snapshot_id,)))[0]

    async def clone_vids(self, vid: int) -> list[int]:
        """Volumes (deleted or not) cloned from any snapshot of volume `vid`."""
        rows = await self._all(sql.CLONE_VIDS, (vid,))
        return [r[0] for r in rows]

    async def count_pending_snapshots(self, account_id: str) -> int:
        return (await self._one(sql.COUNT_PENDING_SNAPSHOTS, (account_id,)))[0]

    # -- snapshots -------------------------------------------------------------------
    async def insert_snapshot(self, s: Snapshot) -> Snapshot:
        cur = await self.conn.execute(
            sql.INSERT_SNAPSHOT,
            (s.snapshot_id, s.account_id, s.vid, s.version, s.mode.value, s.state.value,
             s.progress, s.size_bytes, s.chunk_size, s.parent_snapshot_id or None,
             s.description, json.dumps(s.labels, sort_keys=True), s.created_at,
             s.completed_at))
        return s.replace(sid=cur.lastrowid)

    async def get_snapshot(self, account_id: str, snapshot_id: str) -> Snapshot | None:
        row = await self._one(sql.SNAPSHOT, (snapshot_id, account_id))
        return _snapshot(row) if row else None

    async def list_snapshots(self, account_id: str, volume_id: str | None, after: str,
                             limit: int) -> list[Snapshot]:
        where = "s.account_id = ? AND s.deleted_at IS NULL AND s.snapshot_id > ?"
        params: list[Any] = [account_id, after]
        if volume_id:
            where += " AND v.volume_id = ?"
            params.append(volume_id)
        rows = await self._all(f"{SNAPSHOT_SELECT} WHERE {where} ORDER BY s.snapshot_id "
                               "LIMIT ?", (*params, limit))
        return [_snapshot(r) for r in rows]

    async def get_snapshot_any(self, snapshot_id: str) -> Snapshot | None:
        """By id alone, deleted or not: lineage reads follow a clone's source this way."""
        row = await self._one(sql.SNAPSHOT_ANY, (snapshot_id,))
        return _snapshot(row) if row else None

    async def volume_snapshots(self, vid: int) -> list[Snapshot]:
        rows = await self._all(sql.VOLUME_SNAPSHOTS, (vid,))
        return [_snapshot(r) for r in rows]

    async def latest_snapshot(self, vid: int) -> Snapshot | None:
        """The volume's live snapshot of the highest version (the next one's parent)."""
        row = await self._one(sql.LATEST_SNAPSHOT, (vid,))
        return _snapshot(row) if row else None

    async def pending_snapshots(self, vid: int) -> list[Snapshot]:
        """The volume's live pending snapshots in version order (few: the pending cap)."""
        rows = await self._all(sql.PENDING_SNAPSHOTS, (vid,))
        return [_snapshot(r) for r in rows]

    async def update_snapshot(self, s: Snapshot) -> None:
        await self.conn.execute(
            sql.UPDATE_SNAPSHOT, (s.state.value, s.progress, s.completed_at, s.deleted_at, s.sid))

    # -- idempotency -----------------------------------------------------------------
    async def get_idempotency(self, account_id: str, operation: str,
                              key: str) -> IdempotencyRecord | None:
        row = await self._one(sql.IDEMPOTENCY, (account_id, operation, key))
        return IdempotencyRecord(*row) if row else None

    async def purge_idempotency(self, created_before: int, limit: int) -> int:
        """Delete up to `limit` records created before `created_before`, oldest first."""
        await self.conn.execute(
            "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys "
            "WHERE created_at < ? ORDER BY created_at LIMIT ?)", (created_before, limit))
        return (await self._one("SELECT changes()"))[0]

    async def put_idempotency(self, account_id: str, operation: str, key: str,
                              record: IdempotencyRecord) -> None:
        await self.conn.execute("INSERT OR REPLACE INTO idempotency_keys VALUES (?,?,?,?,?,?)",
                                (account_id, operation, key, record.fingerprint, record.result,
                                 record.created_at))
