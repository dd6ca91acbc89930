"""StartSnapshot and CompleteSnapshot over the control plane's Volumes and Snapshots.

An EBS snapshot is an UPLOAD snapshot of a volume with 512 KiB chunks (docs/ebs.md):
- without ParentSnapshotId: a new blank volume of VolumeSize GiB and its first snapshot;
- with ParentSnapshotId P (completed, 512 KiB chunks): the next UPLOAD snapshot of P's
  volume when P is the caller's and its volume still holds exactly P (P is its newest
  snapshot, nothing written since, same size), so an incremental chain stays one volume
  and ListChangedBlocks is a range query; otherwise a new volume cloned from P. P may be
  a snapshot shared with the caller (always a clone then, as a gRPC clone of it is: not
  exportable if shared without export, manifest/export.py). Either way the new snapshot
  starts as P's content and its parent_snapshot_id is P.
The volume and the snapshot (and its Timeout deadline, ebs_facade/timeouts.py) are made
in one write transaction, keyed by ClientToken (idempotency, as for CreateSnapshot).
CompleteSnapshot checks ChangedBlocksCount against the blocks written to the snapshot
and, if given, the LINEAR aggregate checksum (SHA256 of the written blocks' SHA256
digests in index order) against the stored blocks, read back and BLAKE3-verified; then
it reports progress 1.0 (completion order of the control plane applies: it may stay
pending behind an earlier snapshot of its volume).
"""

from __future__ import annotations

from typing import AsyncIterator

from blockstore.errors import InvalidArgument
from control_plane import codec
from control_plane.idempotency import run_once
from control_plane.snapshots import Snapshots
from control_plane.volumes import Volumes
from ebs_facade.errors import AggregateChecksumMismatch, UnsupportedSnapshot
from ebs_facade.model import BLOCK_SIZE, GIB
from ebs_facade.timeouts import Timeouts
from manifest import ManifestStore, ManifestTx, Snapshot, SnapshotMode, Volume
from manifest.export import clone_no_export
from manifest.lookups import require_snapshot, visible_snapshot

WRITTEN_PAGE = 10_000     # at most the data plane's ranges per download


def require_ebs_shape(snap: Snapshot) -> Snapshot:
    if snap.chunk_size != BLOCK_SIZE:
        raise UnsupportedSnapshot(f"snapshot {snap.snapshot_id} has {snap.chunk_size}-byte "
                                  f"chunks; EBS direct serves snapshots of {BLOCK_SIZE}-byte "
                                  "chunks only")
    return snap


class EbsSnapshots:
    def __init__(self, store: ManifestStore, volumes: Volumes, snapshots: Snapshots,
                 blocks, timeouts: Timeouts) -> None:
        self.store, self.volumes, self.snapshots = store, volumes, snapshots
        self.timeouts = timeouts
        self.blocks = blocks             # EbsBlocks: reads blocks for the aggregate checksum
        self.config = snapshots.config

    async def start(self, account_id: str, size_gib: int, parent_id: str, description: str,
                    tags: dict[str, str], client_token: str, timeout_minutes: int) -> Snapshot:
        params = dict(size_gib=size_gib, parent=parent_id, description=description, tags=tags,
                      timeout=timeout_minutes)
        now = self.config.clock.now_us()
        async with self.store.write() as tx:
            async def create() -> Snapshot:
                volume = await self._volume_for(tx, account_id, size_gib * GIB, parent_id,
                                                tags, now)
                snap = await self.snapshots.take_upload_in(tx, volume, description, tags, now)
                await self.timeouts.start_in(tx, account_id, snap.snapshot_id, timeout_minutes,
                                             now)
                return snap
            return await run_once(tx, account_id, "EbsStartSnapshot", client_token, params,
                                  now, self.config.idempotency_ttl_us, create,
                                  codec.snapshot_to_json, codec.snapshot_from_json)

    async def _volume_for(self, tx: ManifestTx, account_id: str, size: int, parent_id: str,
                          tags: dict[str, str], now: int) -> Volume:
        if not parent_id:
            volume = self.volumes.new_volume(account_id, size, BLOCK_SIZE, None, tags, now)
            return await tx.insert_volume(volume)
        parent, share = await visible_snapshot(tx, account_id, parent_id)
        require_ebs_shape(parent)
        if not parent.completed:
            raise InvalidArgument(f"parent snapshot {parent_id} is not completed yet")
        if size < parent.size_bytes:
            raise InvalidArgument(f"VolumeSize {size // GIB} GiB is below parent snapshot "
                                  f"{parent_id}'s {parent.size_bytes} bytes")
        held = await self._volume_holding(tx, parent, size) if share is None else None
        if held is not None:
            return held
        volume = self.volumes.new_volume(account_id, size, BLOCK_SIZE, parent, tags, now)
        # A clone of data shared without export stays unexportable (manifest/export.py).
        no_export = clone_no_export(await tx.get_volume_by_vid(parent.vid), share)
        return await tx.insert_volume(volume.replace(no_export=no_export))

    @staticmethod
    async def _volume_holding(tx: ManifestTx, parent: Snapshot, size: int) -> Volume | None:
        """Parent's own volume, if its live content is still exactly the parent's."""
        volume = await tx.get_volume(parent.account_id, parent.volume_id)
        if volume is None or volume.size_bytes != size:
            return None
        later = await tx.volume_snapshots(volume.vid)
        if not later or later[-1].snapshot_id != parent.snapshot_id:
            return None
        written = await tx.changed_indexes(volume.vid, parent.version, volume.open_version, 0, 1)
        return None if written else volume

    async def complete(self, account_id: str, snapshot_id: str, changed_blocks: int,
                       aggregate: str = "") -> Snapshot:
        """Check the count (and the LINEAR SHA256 `aggregate`, if given), then complete."""
        async with self.store.read() as tx:
            snap = require_ebs_shape(await require_snapshot(tx, account_id, snapshot_id))
        if snap.completed:
            return snap                  # a retried CompleteSnapshot
        if snap.mode is not SnapshotMode.UPLOAD:
            raise InvalidArgument(f"snapshot {snapshot_id} is not an upload snapshot")
        await self.timeouts.check(account_id, snapshot_id)
        if aggregate:
            written, digest = await self.blocks.linear_sha256(
                account_id, snapshot_id, written_pages(self.store, snap))
        else:
            written, digest = sum([len(p) async for p in written_pages(self.store, snap)]), ""
        if written != changed_blocks:
            raise InvalidArgument(f"ChangedBlocksCount {changed_blocks} does not match the "
                                  f"{written} blocks written to snapshot {snapshot_id}")
        if digest != aggregate:
            raise AggregateChecksumMismatch(f"the aggregate checksum of snapshot {snapshot_id}"
                                            f" does not match its {written} written blocks")
        return await self.snapshots.report_progress(account_id, snapshot_id, 1.0)

    async def report_progress(self, account_id: str, snapshot_id: str, percent: int) -> None:
        """PutSnapshotBlock's x-amz-Progress: kept below 1.0 (only completion sets that)
        and never lowered (concurrent puts arrive in any order)."""
        if not 0 <= percent <= 100:
            raise InvalidArgument(f"Progress {percent} of snapshot {snapshot_id} is outside "
                                  "0..100")
        progress = min(percent / 100, 0.99)
        async with self.store.read() as tx:      # most puts repeat the last percentage:
            snap = await require_snapshot(tx, account_id, snapshot_id)   # no write lock
        if snap.completed or progress <= snap.progress:
            return
        async with self.store.write() as tx:
            snap = await require_snapshot(tx, account_id, snapshot_id)
            if snap.completed or progress <= snap.progress:
                return
            await tx.update_snapshot(snap.replace(progress=progress))


async def written_pages(store: ManifestStore, snap: Snapshot) -> AsyncIterator[list[int]]:
    """Indexes of the blocks written to the snapshot (rows at exactly its version),
    ascending, a page per read transaction."""
    first = 0
    while True:
        async with store.read() as tx:
            found = await tx.changed_indexes(snap.vid, snap.version - 1, snap.version, first,
                                             WRITTEN_PAGE)
        if found:
            yield found
        if len(found) < WRITTEN_PAGE:
            return
        first = found[-1] + 1
