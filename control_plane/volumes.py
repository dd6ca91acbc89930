"""Volumes: create (blank or cloned from a snapshot), get, list, delete.

Owns `Volumes`, the domain object behind the volume RPCs. Rules: every lookup is scoped
to the caller's account; creates are idempotent by key (control_plane/idempotency.py);
a delete is soft (the volume disappears, its snapshots stay readable).
"""

from __future__ import annotations

from blockstore.errors import InvalidChunkSize, SnapshotNotFound, VolumeNotFound
from blockstore.paging import encode_token, parse_page
from control_plane import codec, limits
from control_plane.config import ControlPlaneConfig
from control_plane.idempotency import run_once
from control_plane.take import take_snapshot
from manifest import ManifestStore, ManifestTx, Snapshot, SnapshotMode, Volume
from manifest.export import clone_no_export
from manifest.lookups import require_volume, visible_snapshot


class Volumes:
    def __init__(self, store: ManifestStore, config: ControlPlaneConfig) -> None:
        self.store, self.config = store, config

    async def create(self, account_id: str, size_bytes: int, chunk_size: int,
                     source_snapshot_id: str, idempotency_key: str,
                     labels: dict[str, str]) -> tuple[Volume, str]:
        """Returns the volume and the id of its initial snapshot.

        The initial snapshot is a point-in-time snapshot taken in the same transaction
        (version 1; the volume then opens at 2): a blank volume's reads as zeros, a
        clone's as its source. It completes at once unless a clone's source is pending.
        """
        limits.check_common(idempotency_key, labels)
        params = dict(size_bytes=size_bytes, chunk_size=chunk_size,
                      source_snapshot_id=source_snapshot_id, labels=labels)
        now = self.config.clock.now_us()
        async with self.store.write() as tx:
            async def create() -> tuple[Volume, str]:
                source, no_export = await self._source(tx, account_id, source_snapshot_id)
                volume = self._new_volume(account_id, size_bytes, chunk_size, source, labels, now)
                volume = await tx.insert_volume(volume.replace(no_export=no_export))
                initial = await take_snapshot(tx, self.config.ids, volume,
                                              SnapshotMode.POINT_IN_TIME, [], "", {}, now)
                return volume.replace(open_version=initial.version + 1), initial.snapshot_id
            return await run_once(tx, account_id, "CreateVolume", idempotency_key, params, now,
                                  self.config.idempotency_ttl_us, create,
                                  codec.volume_result_to_json, codec.volume_result_from_json)

    async def _source(self, tx: ManifestTx, account_id: str,
                      snapshot_id: str) -> tuple[Snapshot | None, bool]:
        """The source snapshot (own or shared with the caller), and whether a clone of
        it may not be exported by the caller (manifest/export.py)."""
        if not snapshot_id:
            return None, False
        try:
            source, share = await visible_snapshot(tx, account_id, snapshot_id)
        except SnapshotNotFound:
            raise SnapshotNotFound(f"source snapshot {snapshot_id} not found",
                                   snapshot_id=snapshot_id) from None
        return source, clone_no_export(await tx.get_volume_by_vid(source.vid), share)

    def new_volume(self, account_id: str, size: int, chunk: int, source: Snapshot | None,
                   labels: dict[str, str], now: int) -> Volume:
        """A validated, not yet inserted volume (the EBS facade inserts it in its own
        transaction, next to its first snapshot)."""
        limits.check_common("", labels)
        return self._new_volume(account_id, size, chunk, source, labels, now)

    def _new_volume(self, account_id: str, size: int, chunk: int, source: Snapshot | None,
                    labels: dict[str, str], now: int) -> Volume:
        if source is None:
            size = limits.check_volume_size(size or limits.DEFAULT_VOLUME_SIZE)
            chunk = limits.check_chunk_size(chunk or limits.DEFAULT_CHUNK_SIZE)
        else:
            size = limits.check_volume_size(size or source.size_bytes, source.size_bytes)
            chunk = limits.check_chunk_size(chunk or source.chunk_size)
            if chunk != source.chunk_size:
                raise InvalidChunkSize(
                    f"chunk_size {chunk} differs from source snapshot {source.snapshot_id}'s "
                    f"{source.chunk_size}; a clone keeps its source's chunk size",
                    chunk_size=chunk)
        return Volume(0, self.config.ids.new("vol"), account_id, size, chunk,
                      source.snapshot_id if source else "", 1, now, dict(labels))

    async def get(self, account_id: str, volume_id: str) -> Volume:
        async with self.store.read() as tx:
            return await require_volume(tx, account_id, volume_id)

    async def list(self, account_id: str, page_size: int,
                   page_token: str) -> tuple[list[Volume], str]:
        page = parse_page(page_token, page_size, f"volumes:{account_id}", "")
        async with self.store.read() as tx:
            found = await tx.list_volumes(account_id, page.after, page.size + 1)
        more = len(found) > page.size
        found = found[:page.size]
        return found, encode_token(found[-1].volume_id, f"volumes:{account_id}") if more else ""

    async def delete(self, account_id: str, volume_id: str, allow_missing: bool) -> None:
        """Soft delete: the volume disappears, its snapshots stay readable."""
        async with self.store.write() as tx:
            volume = await tx.get_volume(account_id, volume_id)
            if volume is None:
                if allow_missing:
                    return
                raise VolumeNotFound(f"volume {volume_id} not found", volume_id=volume_id)
            await tx.mark_volume_deleted(volume.vid, self.config.clock.now_us())
