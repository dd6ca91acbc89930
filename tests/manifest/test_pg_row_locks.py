"""PostgreSQL runs writers of different volumes in parallel, so the rules SQLite gets from
its single writer come from the volume row lock (manifest/postgres.py). Two stores on one
database stand for two processes; a writer that must wait for the lock sees, once it gets
it, what the holder committed. (SQLite serializes every writer: nothing to show there.)"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from blockstore.errors import DataVersionConflict, SnapshotAlreadyComplete
from data_plane.targets import check_target
from manifest import Snapshot, SnapshotMode, SnapshotState, open_manifest
from manifest.ordering import complete_ready, completes_at_once
from tests.backends import fresh_database
from tests.manifest.records import T0, new_account, new_volume, take_snapshot, token


@pytest.fixture
async def two_stores(pg_cluster):
    url = fresh_database(pg_cluster)
    stores = [await open_manifest(url), await open_manifest(url)]
    watcher = await asyncpg.connect(url)
    yield stores, watcher
    await watcher.close()
    for store in stores:
        await store.close()


async def _waiting_or_done(watcher, task: asyncio.Task, deadline_s: float = 30) -> None:
    """Until `task` waits on a lock (or finished without waiting: the bug this catches)."""
    end = time.monotonic() + deadline_s
    while not task.done() and time.monotonic() < end:
        if await watcher.fetchval("SELECT COUNT(*) FROM pg_locks WHERE NOT granted"):
            return
        await asyncio.sleep(0.01)


async def _upload(store, account_id, volume_id, snapshot_id, version):
    async with store.write() as tx:
        target = await check_target(tx, account_id, volume_id, snapshot_id, version)
        await tx.upsert_blocks(target.vid, target.version, [(0, token(7))])


async def test_upload_waiting_behind_completion_sees_the_snapshot_complete(two_stores):
    (one, two), watcher = two_stores
    account = await new_account(one)
    snap = await take_snapshot(one, await new_volume(one, account), SnapshotMode.UPLOAD,
                               SnapshotState.PENDING)
    async with one.write() as tx:
        held = await tx.get_snapshot(account.account_id, snap.snapshot_id)
        await tx.update_snapshot(held.replace(progress=1.0))
        await complete_ready(tx, held.vid, T0 + 1)
        upload = asyncio.create_task(_upload(two, account.account_id, "", snap.snapshot_id,
                                             snap.version))
        await _waiting_or_done(watcher, upload)
    with pytest.raises(SnapshotAlreadyComplete):
        await upload
    async with one.read() as tx:
        assert await tx.newest_rows(snap.vid, snap.version, 0, 9) == [], \
            "no block landed in the snapshot after it completed"


async def test_volume_upload_waiting_behind_a_snapshot_is_rejected_not_applied(two_stores):
    (one, two), watcher = two_stores
    account = await new_account(one)
    volume = await new_volume(one, account)                  # open version 1
    async with one.write() as tx:
        vol = await tx.get_volume(account.account_id, volume.volume_id)
        await tx.set_open_version(vol.vid, vol.open_version + 1)   # a snapshot takes v1
        upload = asyncio.create_task(_upload(two, account.account_id, volume.volume_id, "",
                                             vol.open_version))
        await _waiting_or_done(watcher, upload)
    with pytest.raises(DataVersionConflict):
        await upload
    async with one.read() as tx:
        assert await tx.newest_rows(vol.vid, 1, 0, 9) == [], \
            "an upload at the old version never lands under the new snapshot (invariant 5)"


async def test_snapshot_of_a_clone_added_while_its_source_completes_is_not_left_pending(
        two_stores):
    (one, two), watcher = two_stores
    account = await new_account(one)
    source = await take_snapshot(one, await new_volume(one, account), SnapshotMode.UPLOAD,
                                 SnapshotState.PENDING)
    clone = await new_volume(one, account, source=source.snapshot_id)

    async def complete_source():
        async with two.write() as tx:
            held = await tx.get_snapshot(account.account_id, source.snapshot_id)
            await tx.update_snapshot(held.replace(progress=1.0))
            await complete_ready(tx, held.vid, T0 + 1)

    async with one.write() as tx:             # a point-in-time snapshot of the clone
        vol = await tx.get_volume(account.account_id, clone.volume_id)
        assert not await completes_at_once(tx, vol.vid), "its source is still pending"
        pending = await tx.insert_snapshot(Snapshot(
            0, "snap-of-clone", account.account_id, vol.vid, vol.volume_id, vol.open_version,
            SnapshotMode.POINT_IN_TIME, SnapshotState.PENDING, 0.0, vol.size_bytes,
            vol.chunk_size, "", "", T0))
        await tx.set_open_version(vol.vid, vol.open_version + 1)
        completing = asyncio.create_task(complete_source())
        await _waiting_or_done(watcher, completing)
    await completing
    async with one.read() as tx:
        got = await tx.get_snapshot(account.account_id, pending.snapshot_id)
    assert got.completed, "the source's completion found the clone's new snapshot and " \
        "completed it (a COMPLETED source leaves no clone snapshot pending forever)"
