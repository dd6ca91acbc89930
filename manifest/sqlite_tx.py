"""The queries of `ManifestTx` for SQLite. Every query on accounts' objects is scoped
by `account_id`; deleted volumes and snapshots are invisible to these lookups."""

from __future__ import annotations

import json
from typing import Any

from manifest.models import Account, IdempotencyRecord, Snapshot, Volume
from manifest.sqlite_blocks import BlockQueries
from manifest.sqlite_common import SNAPSHOT_SELECT, VOLUME_COLS, _snapshot, _volume
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
        await self.conn.execute("INSERT INTO accounts VALUES (?, ?, ?, ?)",
                                (account.account_id, account.name, token_hash,
                                 account.created_at))

    async def account_by_token_hash(self, token_hash: bytes) -> Account | None:
        row = await self._one("SELECT account_id, name, created_at FROM accounts "
                              "WHERE token_hash = ?", (token_hash,))
        return Account(*row) if row else None

    async def account_by_name(self, name: str) -> Account | None:
        row = await self._one("SELECT account_id, name, created_at FROM accounts "
                              "WHERE name = ?", (name,))
        return Account(*row) if row else None

    async def account_count(self) -> int:
        return (await self._one("SELECT COUNT(*) FROM accounts"))[0]

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
        row = await self._one(f"SELECT {VOLUME_COLS} FROM volumes WHERE volume_id = ? "
                              "AND account_id = ? AND deleted_at IS NULL",
                              (volume_id, account_id))
        return _volume(row) if row else None

    async def get_volume_by_vid(self, vid: int) -> Volume | None:
        row = await self._one(f"SELECT {VOLUME_COLS} FROM volumes WHERE vid = ?", (vid,))
        return _volume(row) if row else None

    async def list_volumes(self, account_id: str, after: str, limit: int) -> list[Volume]:
        rows = await self._all(f"SELECT {VOLUME_COLS} FROM volumes WHERE account_id = ? "
                               "AND deleted_at IS NULL AND volume_id > ? "
                               "ORDER BY volume_id LIMIT ?", (account_id, after, limit))
        return [_volume(r) for r in rows]

    async def set_open_version(self, vid: int, open_version: int) -> None:
        await self.conn.execute("UPDATE volumes SET open_version = ? WHERE vid = ?",
                                (open_version, vid))

    async def mark_volume_deleted(self, vid: int, deleted_at: int) -> None:
        await self.conn.execute("UPDATE volumes SET deleted_at = ? WHERE vid = ?",
                                (deleted_at, vid))

    async def count_dependent_clones(self, snapshot_id: str) -> int:
        """Volumes cloned from the snapshot that still read through it: live ones, and
        deleted ones whose own snapshots survive."""
        row = await self._one(
            "SELECT COUNT(*) FROM volumes v WHERE v.source_snapshot_id = ? AND "
            "(v.deleted_at IS NULL OR EXISTS (SELECT 1 FROM snapshots s WHERE s.vid = v.vid "
            "AND s.deleted_at IS NULL))", (snapshot_id,))
        return row[0]

    async def clone_vids(self, vid: int) -> list[int]:
        """Volumes (deleted or not) cloned from any snapshot of volume `vid`."""
        rows = await self._all("SELECT vid FROM volumes WHERE source_vid = ? ORDER BY vid",
                               (vid,))
        return [r[0] for r in rows]

    async def count_pending_snapshots(self, account_id: str) -> int:
        row = await self._one("SELECT COUNT(*) FROM snapshots WHERE account_id = ? AND "
                              "state = 'PENDING' AND deleted_at IS NULL", (account_id,))
        return row[0]

    # -- snapshots -------------------------------------------------------------------
    async def insert_snapshot(self, s: Snapshot) -> Snapshot:
        cur = await self.conn.execute(
            "INSERT INTO snapshots (snapshot_id, account_id, vid, version, mode, state, "
            "progress, size_bytes, chunk_size, parent_snapshot_id, description, labels, "
            "created_at, completed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (s.snapshot_id, s.account_id, s.vid, s.version, s.mode.value, s.state.value,
             s.progress, s.size_bytes, s.chunk_size, s.parent_snapshot_id or None,
             s.description, json.dumps(s.labels, sort_keys=True), s.created_at,
             s.completed_at))
        return s.replace(sid=cur.lastrowid)

    async def get_snapshot(self, account_id: str, snapshot_id: str) -> Snapshot | None:
        row = await self._one(f"{SNAPSHOT_SELECT} WHERE s.snapshot_id = ? AND s.account_id = ? "
                              "AND s.deleted_at IS NULL", (snapshot_id, account_id))
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
        row = await self._one(f"{SNAPSHOT_SELECT} WHERE s.snapshot_id = ?", (snapshot_id,))
        return _snapshot(row) if row else None

    async def volume_snapshots(self, vid: int) -> list[Snapshot]:
        rows = await self._all(f"{SNAPSHOT_SELECT} WHERE s.vid = ? AND s.deleted_at IS NULL "
                               "ORDER BY s.version", (vid,))
        return [_snapshot(r) for r in rows]

    async def latest_snapshot(self, vid: int) -> Snapshot | None:
        """The volume's live snapshot of the highest version (the next one's parent)."""
        row = await self._one(f"{SNAPSHOT_SELECT} WHERE s.vid = ? AND s.deleted_at IS NULL "
                              "ORDER BY s.version DESC LIMIT 1", (vid,))
        return _snapshot(row) if row else None

    async def pending_snapshots(self, vid: int) -> list[Snapshot]:
        """The volume's live pending snapshots in version order (few: the pending cap)."""
        rows = await self._all(f"{SNAPSHOT_SELECT} WHERE s.vid = ? AND s.state = 'PENDING' "
                               "AND s.deleted_at IS NULL ORDER BY s.version", (vid,))
        return [_snapshot(r) for r in rows]

    async def update_snapshot(self, s: Snapshot) -> None:
        await self.conn.execute(
            "UPDATE snapshots SET state = ?, progress = ?, completed_at = ?, deleted_at = ? "
            "WHERE sid = ?", (s.state.value, s.progress, s.completed_at, s.deleted_at, s.sid))

    # -- idempotency -----------------------------------------------------------------
    async def get_idempotency(self, account_id: str, operation: str,
                              key: str) -> IdempotencyRecord | None:
        row = await self._one("SELECT fingerprint, result, created_at FROM idempotency_keys "
                              "WHERE account_id = ? AND operation = ? AND key = ?",
                              (account_id, operation, key))
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
