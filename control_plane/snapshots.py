"""Snapshots: point-in-time and upload snapshots, progress, completion order, delete.

Owns `Snapshots`, the domain object behind the snapshot RPCs. Rules: every lookup is
scoped to the caller's account (a snapshot shared with it is visible, never changeable);
a snapshot completes only in version order (manifest/ordering.py); the pending cap per
account is checked in the create's own write transaction; a snapshot clones still read
through is not deleted.
"""

from __future__ import annotations

from blockstore.errors import (MalformedChunkToken, SnapshotHasDependentVolumes,
                               SnapshotNotFound, TooManyPendingSnapshots, UnknownChunkToken)
from blockstore.paging import encode_token, parse_page
from control_plane import codec, limits
from control_plane.config import ControlPlaneConfig
from control_plane.idempotency import run_once
from control_plane.take import take_snapshot
from manifest import ManifestStore, ManifestTx, Snapshot, SnapshotMode, Volume
from manifest.lookups import require_snapshot, require_volume, visible_snapshot
from manifest.ordering import (complete_ready, completes_at_once,
                               require_earliest_outstanding)

TOKEN_BYTES = 32


class Snapshots:
    def __init__(self, store: ManifestStore, config: ControlPlaneConfig) -> None:
        self.store, self.config = store, config

    async def create(self, account_id: str, volume_id: str, mode: SnapshotMode,
                     chunk_tokens: list[tuple[int, bytes]], idempotency_key: str,
                     description: str, labels: dict[str, str]) -> Snapshot:
        limits.check_common(idempotency_key, labels, description)
        if chunk_tokens and mode is not SnapshotMode.UPLOAD:
            raise MalformedChunkToken(f"chunk_tokens given for a {mode.value} snapshot of "
                                      f"volume {volume_id}; only UPLOAD snapshots take them")
        params = dict(volume_id=volume_id, mode=mode.value, description=description,
                      labels=labels, chunk_tokens=[(o, t.hex()) for o, t in chunk_tokens])
        now = self.config.clock.now_us()
        async with self.store.write() as tx:
            async def create() -> Snapshot:
                volume = await require_volume(tx, account_id, volume_id)
                await self._check_pending_cap(tx, volume, mode)
                rows = await self._token_rows(tx, account_id, volume, chunk_tokens)
                return await take_snapshot(tx, self.config.ids, volume, mode, rows, description,
                                           labels, now)
            return await run_once(tx, account_id, "CreateSnapshot", idempotency_key, params,
                                  now, self.config.idempotency_ttl_us, create,
                                  codec.snapshot_to_json, codec.snapshot_from_json)

    async def take_upload_in(self, tx: ManifestTx, volume: Volume, description: str,
                             labels: dict[str, str], now: int) -> Snapshot:
        """An UPLOAD snapshot of `volume` inside the caller's write transaction (the EBS
        facade's StartSnapshot creates its volume in the same one)."""
        limits.check_common("", labels, description)
        await self._check_pending_cap(tx, volume, SnapshotMode.UPLOAD)
        return await take_snapshot(tx, self.config.ids, volume, SnapshotMode.UPLOAD, [],
                                   description, labels, now)

    async def _check_pending_cap(self, tx: ManifestTx, volume: Volume,
                                 mode: SnapshotMode) -> None:
        """Refuse a snapshot that would be pending while the account is at its cap.

        A point-in-time snapshot that completes at once never counts: only UPLOAD ones
        and point-in-time ones queued behind a pending snapshot of their volume, or
        waiting for a pending source of a clone, do.
        Runs inside the write transaction, so concurrent creates can not overshoot.
        """
        if mode is not SnapshotMode.UPLOAD and await completes_at_once(tx, volume.vid):
            return
        cap = self.config.max_pending_snapshots_per_account
        pending = await tx.count_pending_snapshots(volume.account_id)
        if pending >= cap:
            raise TooManyPendingSnapshots(
                f"account {volume.account_id} has {pending} pending snapshots; at most {cap}: "
                f"complete or delete some before snapshotting volume {volume.volume_id}",
                retry_after_s=self.config.limit_retry_after_s, limit=cap)

    async def _token_rows(self, tx: ManifestTx, account_id: str, volume: Volume,
                          chunk_tokens: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
        """Check chunk tokens given at creation: well-formed, in range, the caller's own."""
        rows: dict[int, bytes] = {}
        for offset, token in chunk_tokens:
            if len(token) != TOKEN_BYTES or offset < 0 or offset % volume.chunk_size \
                    or offset >= volume.size_bytes or offset // volume.chunk_size in rows:
                raise MalformedChunkToken(
                    f"chunk token {token.hex()[:64]} at offset {offset} of volume "
                    f"{volume.volume_id}: need a 32-byte token at a unique chunk-aligned "
                    f"offset inside {volume.size_bytes} bytes", offset=offset)
            rows[offset // volume.chunk_size] = token
        if not rows:
            return []
        known = await tx.tokens_known(account_id, rows.values())
        lengths = await tx.chunk_lengths(rows.values())
        for index, token in rows.items():
            offset = index * volume.chunk_size
            if token not in known:
                raise UnknownChunkToken(f"chunk token {token.hex()} at offset {offset} is not "
                                        "known to this account", offset=offset)
            expected = min(volume.chunk_size, volume.size_bytes - offset)
            if lengths.get(token) != expected:
                raise MalformedChunkToken(
                    f"chunk token {token.hex()} holds {lengths.get(token)} bytes but the block "
                    f"at offset {offset} of volume {volume.volume_id} is {expected}",
                    offset=offset)
        return sorted(rows.items())

    async def get(self, account_id: str, snapshot_id: str) -> Snapshot:
        """The caller's snapshot, or one another account shares with it."""
        async with self.store.read() as tx:
            return (await visible_snapshot(tx, account_id, snapshot_id))[0]

    async def list(self, account_id: str, volume_id: str, page_size: int,
                   page_token: str, shared_with_me: bool = False) -> tuple[list[Snapshot], str]:
        """The caller's snapshots, or (`shared_with_me`) those others share with it."""
        scope = f"snapshots:{account_id}:{volume_id}:{'shared' if shared_with_me else 'own'}"
        page = parse_page(page_token, page_size, scope, "")
        query = self._shared if shared_with_me else self._own
        async with self.store.read() as tx:
            found = await query(tx, account_id, volume_id or None, page.after, page.size + 1)
        more = len(found) > page.size
        found = found[:page.size]
        return found, encode_token(found[-1].snapshot_id, scope) if more else ""

    @staticmethod
    async def _own(tx: ManifestTx, account_id: str, volume_id: str | None, after: str,
                   limit: int) -> list[Snapshot]:
        return await tx.list_snapshots(account_id, volume_id, after, limit)

    @staticmethod
    async def _shared(tx: ManifestTx, account_id: str, volume_id: str | None, after: str,
                      limit: int) -> list[Snapshot]:
        return await tx.list_shared_snapshots(account_id, volume_id, after, limit)

    async def report_progress(self, account_id: str, snapshot_id: str,
                              progress: float) -> Snapshot:
        limits.check_progress(progress, 0.0, snapshot_id)
        now = self.config.clock.now_us()
        async with self.store.write() as tx:
            snap = await require_snapshot(tx, account_id, snapshot_id)
            await require_earliest_outstanding(tx, snap)
            limits.check_progress(progress, snap.progress, snapshot_id)
            snap = snap.replace(progress=progress)
            await tx.update_snapshot(snap)
            for done in await complete_ready(tx, snap.vid, now):
                if done.sid == snap.sid:
                    snap = done
            return snap

    async def delete(self, account_id: str, snapshot_id: str, allow_missing: bool) -> None:
        now = self.config.clock.now_us()
        async with self.store.write() as tx:
            try:
                snap = await require_snapshot(tx, account_id, snapshot_id)
            except SnapshotNotFound:
                if allow_missing:
                    return
                raise
            clones = await tx.count_dependent_clones(snapshot_id)
            if clones:
                raise SnapshotHasDependentVolumes(
                    f"snapshot {snapshot_id} is the source of {clones} volume(s) that still "
                    "read through it (live clones, or deleted clones whose snapshots "
                    "survive); delete them first", snapshot_id=snapshot_id, volumes=clones)
            await tx.update_snapshot(snap.replace(deleted_at=now))
            await complete_ready(tx, snap.vid, now, changed=not snap.completed)
