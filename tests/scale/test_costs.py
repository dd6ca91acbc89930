"""Costs follow the work, not the store: what each operation reads from the manifest.

Each test builds a real SQLite manifest with much more in it than the operation needs
and counts, through tests/scale/counting.py, what the operation reads: block rows,
chunk indexes, snapshots, read transactions. The bound is the size of the work (plus
a constant), so the old whole-volume and all-snapshots queries fail it.
"""

from __future__ import annotations

import pytest

from control_plane.config import ControlPlaneConfig
from control_plane.snapshots import Snapshots
from data_plane import download, listing
from data_plane.views import volume_view
from manifest import SnapshotMode
from tests.gc.manifest_builder import ACCOUNT, open_store, snapshot, tok, volume, write
from tests.scale.counting import CountingStore, download_operation

ROWS = 5000


@pytest.fixture
async def store(tmp_path):
    s = await open_store(tmp_path)
    yield s
    await s.close()


async def big_volume(store, size: int = 1 << 30):
    vol = await volume(store)
    async with store.write() as tx:
        await tx._all("UPDATE volumes SET size_bytes = ? WHERE vid = ?", (size, vol.vid))
        await tx.upsert_blocks(vol.vid, 1, [(i * 3, tok(1)) for i in range(ROWS)])
    return vol


async def test_changed_blocks_read_only_the_changes(store):
    vol = await big_volume(store)
    base = await snapshot(store, vol)
    await write(store, vol, {30: tok(2), 3000: None, 14_999: tok(3)})
    target = await snapshot(store, vol)
    counting = CountingStore(store)
    changes, token = await listing.list_changes(counting, ACCOUNT, base.snapshot_id,
                                                target.snapshot_id, 100, "")
    assert [c.offset // (1 << 16) for c in changes] == [30, 3000, 14_999] and not token
    work = counting.counts.block_rows + counting.counts.indexes
    assert work <= 3 * 3, f"3 changes among {ROWS} rows read {work} rows and indexes"


async def test_download_of_holes_reads_only_written_rows(store):
    vol = await volume(store)
    async with store.write() as tx:                     # 1 GiB: 16,384 chunks, 2 rows
        await tx._all("UPDATE volumes SET size_bytes = ? WHERE vid = ?", (1 << 30, vol.vid))
    await write(store, vol, {5: tok(1), 16_000: tok(2)})
    counting = CountingStore(store)
    async with store.read() as tx:
        view = await volume_view(tx, ACCOUNT, vol.volume_id)
    async with download_operation(store) as op:
        pieces = [p async for p in download.pieces(counting, view, 0, 1 << 30, op)]
    assert [(p.offset >> 16, p.token) for p in pieces] == [
        (0, None), (5, tok(1)), (6, None), (16_000, tok(2)), (16_001, None)]
    assert counting.counts.reads == 1, \
        f"2 written chunks in 16,384 took {counting.counts.reads} read transactions"


async def test_create_snapshot_reads_a_constant_number_of_snapshots(store):
    vol = await volume(store)
    for _ in range(40):
        await snapshot(store, vol)
    counting = CountingStore(store)
    snaps = Snapshots(counting, ControlPlaneConfig())
    made = await snaps.create(ACCOUNT, vol.volume_id, SnapshotMode.POINT_IN_TIME, [], "", "",
                              {})
    assert made.completed and made.version == 41
    assert counting.counts.snapshots <= 3, \
        f"CreateSnapshot after 40 snapshots read {counting.counts.snapshots} snapshots"
    upload = await snaps.create(ACCOUNT, vol.volume_id, SnapshotMode.UPLOAD, [], "", "", {})
    before = counting.counts.snapshots
    done = await snaps.report_progress(ACCOUNT, upload.snapshot_id, 1.0)
    assert done.completed and counting.counts.snapshots - before <= 4, \
        "progress and completion read the pending snapshots, not all 42"
