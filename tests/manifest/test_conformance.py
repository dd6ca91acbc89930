"""The ManifestStore conformance suite: every backend (SQLite, PostgreSQL) keeps the same
contract, query by query. Domain rules above it (ordering, idempotency) rely on each."""

from __future__ import annotations

import asyncio

import pytest

from manifest import ChunkRecord, IdempotencyRecord, SnapshotState
from manifest.models import DataPlaneRow
from tests.manifest.records import T0, new_account, new_volume, take_snapshot, token


async def test_accounts_by_token_hash_and_name(store):
    account = await new_account(store, "alice")
    async with store.read() as tx:
        assert await tx.account_by_name("alice") == account
        assert await tx.account_by_name("bob") is None
        assert await tx.account_count() == 1
        assert await tx.account_by_token_hash(b"nope") is None


async def test_volumes_are_scoped_by_account_and_paged_by_id(store):
    a, b = await new_account(store), await new_account(store)
    vols = [await new_volume(store, a, labels={"n": str(i)}) for i in range(3)]
    await new_volume(store, b)
    async with store.read() as tx:
        assert await tx.get_volume(b.account_id, vols[0].volume_id) is None, \
            "another account's volume is invisible"
        got = await tx.get_volume(a.account_id, vols[1].volume_id)
        assert got == vols[1] and got.labels == {"n": "1"}
        assert await tx.list_volumes(a.account_id, "", 2) == vols[:2]
        assert await tx.list_volumes(a.account_id, vols[1].volume_id, 5) == vols[2:]
        assert await tx.get_volume_by_vid(vols[2].vid) == vols[2]


async def test_deleted_volume_is_gone_from_lookups_but_kept_by_vid(store):
    a = await new_account(store)
    vol = await new_volume(store, a)
    async with store.write() as tx:
        await tx.mark_volume_deleted(vol.vid, T0 + 1)
    async with store.read() as tx:
        assert await tx.get_volume(a.account_id, vol.volume_id) is None
        assert await tx.list_volumes(a.account_id, "", 10) == []
        assert (await tx.get_volume_by_vid(vol.vid)).deleted_at == T0 + 1


async def test_snapshots_take_successive_versions_and_update(store):
    a = await new_account(store)
    vol = await new_volume(store, a)
    s1 = await take_snapshot(store, vol, state=SnapshotState.PENDING)
    s2 = await take_snapshot(store, vol)
    assert (s1.version, s2.version) == (1, 2), "versions count 1, 2, ... per volume"
    async with store.write() as tx:
        assert (await tx.get_volume(a.account_id, vol.volume_id)).open_version == 3
        assert await tx.count_pending_snapshots(a.account_id) == 1
        await tx.update_snapshot(s1.replace(state=SnapshotState.COMPLETED, progress=1.0,
                                            completed_at=T0 + 5))
    async with store.read() as tx:
        got = await tx.get_snapshot(a.account_id, s1.snapshot_id)
        assert (got.state, got.progress, got.completed_at) == (SnapshotState.COMPLETED, 1.0,
                                                                T0 + 5)
        assert got.volume_id == vol.volume_id and got.labels == {"k": "v"}
        assert [s.snapshot_id for s in await tx.volume_snapshots(vol.vid)] == \
            [s1.snapshot_id, s2.snapshot_id]
        assert [s.snapshot_id for s in await tx.list_snapshots(
            a.account_id, vol.volume_id, "", 10)] == sorted([s1.snapshot_id, s2.snapshot_id])
        assert await tx.list_snapshots(a.account_id, "vol-none", "", 10) == []


async def test_deleted_snapshot_is_found_only_by_get_snapshot_any(store):
    a = await new_account(store)
    vol = await new_volume(store, a)
    snap = await take_snapshot(store, vol)
    async with store.write() as tx:
        await tx.update_snapshot(snap.replace(deleted_at=T0 + 9))
    async with store.read() as tx:
        assert await tx.get_snapshot(a.account_id, snap.snapshot_id) is None
        assert (await tx.get_snapshot_any(snap.snapshot_id)).deleted_at == T0 + 9
        assert await tx.volume_snapshots(vol.vid) == []


async def test_dependent_clones_count_live_and_deleted_with_snapshots(store):
    a = await new_account(store)
    source = await take_snapshot(store, await new_volume(store, a))
    live = await new_volume(store, a, source=source.snapshot_id)
    gone = await new_volume(store, a, source=source.snapshot_id)
    await take_snapshot(store, gone)
    async with store.write() as tx:
        await tx.mark_volume_deleted(gone.vid, T0 + 1)
        assert await tx.count_dependent_clones(source.snapshot_id) == 2, \
            "a deleted clone whose snapshot survives still reads through its source"
        assert [v.volume_id for v in await tx.live_clones(source.snapshot_id)] == \
            [live.volume_id]


async def test_idempotency_record_put_get_replace_and_purge_oldest_first(store):
    a = await new_account(store)
    async with store.write() as tx:
        for i in range(3):
            await tx.put_idempotency(a.account_id, "CreateVolume", f"k{i}",
                                     IdempotencyRecord(b"fp", f'{{"i": {i}}}', T0 + i))
        await tx.put_idempotency(a.account_id, "CreateVolume", "k0",
                                 IdempotencyRecord(b"fp2", "{}", T0 + 10))
    async with store.write() as tx:
        assert await tx.get_idempotency(a.account_id, "CreateVolume", "k0") == \
            IdempotencyRecord(b"fp2", "{}", T0 + 10), "a put replaces the record"
        assert await tx.get_idempotency(a.account_id, "CreateSnapshot", "k1") is None
        assert await tx.purge_idempotency(T0 + 5, 1) == 1, "at most `limit` go"
        assert await tx.get_idempotency(a.account_id, "CreateVolume", "k1") is None, \
            "the oldest record goes first"
        assert await tx.purge_idempotency(T0 + 5, 10) == 1
        assert await tx.get_idempotency(a.account_id, "CreateVolume", "k0") is not None


async def test_block_rows_newest_at_or_below_a_version(store):
    a = await new_account(store)
    vol = await new_volume(store, a)
    async with store.write() as tx:
        await tx.upsert_blocks(vol.vid, 1, [(0, token(0)), (1, None), (3, token(3))])
        await tx.upsert_blocks(vol.vid, 2, [(0, token(10))])
        await tx.upsert_blocks(vol.vid, 2, [(0, token(20)), (5, token(5))])
    async with store.read() as tx:
        rows = await tx.newest_rows(vol.vid, 1, 0, 10)
        assert [(r.chunk_index, r.token, r.version) for r in rows] == \
            [(0, token(0), 1), (1, None, 1), (3, token(3), 1)]
        rows = await tx.newest_rows(vol.vid, 2, 0, 4)
        assert [(r.chunk_index, r.token) for r in rows] == \
            [(0, token(20)), (1, None), (3, token(3))], "an upsert replaces; a range bounds"
        assert len(await tx.newest_rows(vol.vid, 2, 0, 10, limit=2)) == 2
        assert await tx.changed_indexes(vol.vid, 1, 2, 0, 10) == [0, 5]
        assert await tx.changed_indexes(vol.vid, 1, 2, 1, 10) == [5]
        assert await tx.block_vids() == [vol.vid]


async def test_account_tokens_and_chunk_rows(store):
    a, b = await new_account(store), await new_account(store)
    async with store.write() as tx:
        await tx.record_chunks([(token(1), 100, 60), (token(2), 200, 200)], T0)
        await tx.record_chunks([(token(1), 999, 999)], T0 + 1)
        await tx.add_account_tokens(a.account_id, [token(1), token(2), token(1)])
        await tx.add_account_tokens(b.account_id, [token(2)])
    async with store.read() as tx:
        assert await tx.tokens_known(a.account_id, [token(1), token(3)]) == {token(1)}
        assert await tx.tokens_known(b.account_id, [token(1)]) == set(), \
            "an account knows only its own tokens"
        assert await tx.chunk_lengths([token(1), token(3)]) == {token(1): 100}, \
            "recording a known chunk again changes nothing"
        assert await tx.chunk_tokens_after(b"", 10) == sorted([token(1), token(2)])
        [rec] = await tx.chunk_records([token(2)])
        assert rec == ChunkRecord(token(2), 200, 200, T0,
                                  tuple(sorted([a.account_id, b.account_id])))


async def test_chunk_rows_deleted_and_restored(store):
    a = await new_account(store)
    async with store.write() as tx:
        await tx.record_chunks([(token(1), 10, 10)], T0)
        await tx.add_account_tokens(a.account_id, [token(1)])
        saved = await tx.chunk_records([token(1)])
        await tx.delete_chunk_rows([token(1)])
        assert await tx.tokens_known(a.account_id, [token(1)]) == set()
        assert await tx.chunk_lengths([token(1)]) == {}
        await tx.restore_chunk_rows(saved)
    async with store.read() as tx:
        assert await tx.chunk_records([token(1)]) == saved


async def test_sets_larger_than_a_batch_are_answered_whole(store):
    # SQLite binds a set as `IN (?, ...)` in batches of 500 (manifest/sqlite_common.py),
    # PostgreSQL as one array: either way every member counts, once.
    a = await new_account(store)
    vol = await new_volume(store, a)
    many = [token(n) for n in range(1234)]
    mine = many[::2]
    async with store.write() as tx:
        await tx.record_chunks([(t, n + 1, n + 1) for n, t in enumerate(many)], T0)
        await tx.add_account_tokens(a.account_id, mine)
        await tx.upsert_blocks(vol.vid, 1, [(n, t) for n, t in enumerate(many)])
    async with store.read() as tx:
        assert await tx.tokens_known(a.account_id, many) == set(mine)
        lengths = await tx.chunk_lengths(many + many[:10])
        assert lengths == {t: n + 1 for n, t in enumerate(many)}
        assert {r.token for r in await tx.chunk_records(many)} == set(many)
        assert len(await tx.token_uses(many)) == len(many)
        rows = await tx.newest_at(vol.vid, 1, list(range(1234)))
        assert [r.chunk_index for r in rows] == list(range(1234)), "in index order"
    async with store.write() as tx:
        await tx.delete_chunk_rows(many)
        assert await tx.chunk_lengths(many) == {}
        assert await tx.tokens_known(a.account_id, many) == set()


async def test_referenced_tokens_and_uses(store):
    a = await new_account(store)
    vol = await new_volume(store, a)
    async with store.write() as tx:
        await tx.upsert_blocks(vol.vid, 1, [(0, token(1)), (1, token(2))])
        await tx.upsert_blocks(vol.vid, 3, [(0, token(3))])
    async with store.write() as tx:
        assert await tx.referenced_tokens([token(1), token(9)]) == {token(1)}
        assert await tx.referenced_tokens_after(b"", 10) == sorted([token(1), token(2),
                                                                     token(3)])
        assert await tx.referenced_tokens_after(min(token(1), token(2), token(3)), 1) == \
            [sorted([token(1), token(2), token(3)])[1]]
        uses = await tx.token_uses([token(1), token(2)])
    assert [(u.token, u.chunk_index, u.version, u.next_version) for u in uses] == \
        [(token(1), 0, 1, 3), (token(2), 1, 1, None)]


async def test_compaction_keeps_exactly_the_rows_some_reader_sees(store):
    a = await new_account(store)
    vol = await new_volume(store, a)                  # open version 1
    async with store.write() as tx:
        await tx.upsert_blocks(vol.vid, 1, [(0, token(1)), (1, token(2))])
    snap = await take_snapshot(store, vol)            # reads version 1; open is now 2
    async with store.write() as tx:
        await tx.upsert_blocks(vol.vid, 2, [(0, token(3))])
    await take_snapshot(store, vol)                   # open is now 3
    async with store.write() as tx:
        await tx.upsert_blocks(vol.vid, 3, [(0, token(4))])   # hides version 2 of chunk 0
        await tx.update_snapshot(snap.replace(deleted_at=T0 + 1))
    async with store.write() as tx:
        removed = await tx.compact_blocks(vol.vid)
    async with store.read() as tx:
        rows = {(i, v) for i in range(2) for r in await tx.newest_rows(vol.vid, 9, i, i)
                for v in [r.version]}
        left = await tx.token_uses([token(n) for n in range(1, 5)])
    assert removed == 1, "only chunk 0 at version 1 is invisible to every reader"
    assert {(u.chunk_index, u.version) for u in left} == {(0, 2), (0, 3), (1, 1)}
    assert rows == {(0, 3), (1, 1)}


async def test_leases_put_replace_and_drop_by_holder(store):
    async with store.write() as tx:
        assert await tx.get_lease("gc") is None
        await tx.put_lease("gc", "h1", 10.5)
        await tx.put_lease("gc", "h2", 20.0)
        await tx.drop_lease("gc", "h1")
        assert await tx.get_lease("gc") == ("h2", 20.0), "only the holder drops its lease"
        await tx.drop_lease("gc", "h2")
        assert await tx.get_lease("gc") is None
        assert await tx.integrity_check() == ["ok"]


async def test_a_write_rolls_back_on_error_and_on_cancellation(store):
    a = await new_account(store)
    with pytest.raises(RuntimeError):
        async with store.write() as tx:
            await new_volume_in(tx, a, "vol-rolled-back")
            raise RuntimeError("boom")
    entered = asyncio.Event()

    async def cancelled_writer():
        async with store.write() as tx:
            await new_volume_in(tx, a, "vol-cancelled")
            entered.set()
            await asyncio.Event().wait()
    task = asyncio.create_task(cancelled_writer())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with store.write() as tx:                   # the writer is free again
        assert await tx.list_volumes(a.account_id, "", 10) == [], \
            "neither the failed nor the cancelled transaction left a row"


async def new_volume_in(tx, account, volume_id):
    from manifest import Volume
    return await tx.insert_volume(Volume(0, volume_id, account.account_id, 1 << 20, 1 << 20,
                                         "", 1, T0))


async def test_a_read_sees_one_snapshot_while_a_writer_commits(store):
    a = await new_account(store)
    vol = await new_volume(store, a)
    async with store.read() as reader:
        assert await reader.newest_rows(vol.vid, 1, 0, 9) == []
        async with store.write() as tx:
            await tx.upsert_blocks(vol.vid, 1, [(0, token(1))])
        assert await reader.newest_rows(vol.vid, 1, 0, 9) == [], \
            "a read transaction keeps the snapshot it started with"
    async with store.read() as reader:
        assert len(await reader.newest_rows(vol.vid, 1, 0, 9)) == 1


async def test_store_identity_set_once_replaced_and_emptiness(store):
    async with store.write() as tx:
        assert await tx.store_identity() is None
        assert await tx.is_empty() and not await tx.records_chunks()
        await tx.set_store_identity("store-1", T0)
        await tx.set_store_identity("store-2", T0 + 1)
    await new_account(store)
    async with store.read() as tx:
        assert await tx.store_identity() == "store-2", "one row: a set replaces it"
        assert not await tx.is_empty(), "an account makes the manifest non-empty"
        assert not await tx.records_chunks()
    async with store.write() as tx:
        await tx.record_chunks([(token(1), 1, 1)], T0)
        assert await tx.records_chunks()


async def test_active_operations_and_chunk_releases(store):
    import time

    from manifest.models import ActiveOperation
    a = await new_account(store)
    vol = await new_volume(store, a)
    op = ActiveOperation("op-1", "download", f"volume {vol.volume_id}", "h:1:x", vol.vid, 1,
                         100.0, 200.0)
    async with store.write() as tx:
        await tx.start_operation(op)
        await tx.start_operation(ActiveOperation("op-2", "upload", "v", "h:2:y", None, None,
                                                 50.0, 60.0))
        assert await tx.renew_operations("h:1:x", 300.0) == 1
    async with store.read() as tx:
        assert [o.op_id for o in await tx.active_operations()] == ["op-2", "op-1"], \
            "oldest start first"
        assert (await tx.active_operations())[1].expires_at == 300.0
        assert await tx.operation_alive("op-1") and not await tx.operation_alive("op-9")
    before = time.time() - 1
    async with store.write() as tx:
        await tx.end_operations(["op-1", "op-2"])
        await tx.upsert_blocks(vol.vid, 1, [(0, token(1)), (1, token(2))])
        await tx.upsert_blocks(vol.vid, 1, [(0, token(3)), (1, token(2))])
    async with store.write() as tx:
        assert await tx.active_operations() == []
        assert await tx.released_since([token(1), token(2), token(3)], before) == {token(1)}, \
            "an overwrite in place records the chunk it released; a same-token upsert does not"
        assert await tx.prune_releases(time.time() + 60) == 1
        assert await tx.released_since([token(1)], 0) == set()


async def test_access_keys_put_and_looked_up_by_id(store):
    a = await new_account(store)
    async with store.write() as tx:
        await tx.insert_access_key("AKIDEXAMPLE", a.account_id, "s3cr3t", T0)
    async with store.read() as tx:
        assert await tx.access_key("AKIDEXAMPLE") == (a.account_id, "s3cr3t")
        assert await tx.access_key("AKIDNONE") is None


async def test_ebs_timeouts_extend_expire_in_deadline_order_and_drop(store):
    async with store.write() as tx:
        await tx.put_ebs_timeout("snap-late", "acct-a", 600, T0 + 600)
        await tx.put_ebs_timeout("snap-early", "acct-b", 600, T0 + 100)
        await tx.extend_ebs_deadline("snap-late", T0 + 50)        # now + timeout
    async with store.read() as tx:
        assert await tx.ebs_deadline("snap-late") == T0 + 650
        assert await tx.ebs_deadline("snap-none") is None
        assert await tx.expired_ebs_timeouts(T0 + 100, 10) == [], "a deadline is exclusive"
        assert await tx.expired_ebs_timeouts(T0 + 1000, 10) == \
            [("acct-b", "snap-early"), ("acct-a", "snap-late")], "earliest deadline first"
        assert await tx.expired_ebs_timeouts(T0 + 1000, 1) == [("acct-b", "snap-early")]
    async with store.write() as tx:
        await tx.drop_ebs_timeout("snap-early")
    async with store.read() as tx:
        assert await tx.expired_ebs_timeouts(T0 + 1000, 10) == [("acct-a", "snap-late")]


async def test_data_plane_registrations_renew_expire_and_go(store):
    rows = [DataPlaneRow("dp-b", "10.0.0.2:1", T0, T0, T0 + 15),
            DataPlaneRow("dp-a", "10.0.0.1:1", T0, T0, T0 + 15),
            DataPlaneRow("dp-old", "10.0.0.3:1", T0 - 100, T0 - 90, T0 - 75)]
    async with store.write() as tx:
        for row in rows:
            await tx.put_data_plane(row)
    async with store.read() as tx:
        assert await tx.live_data_planes(T0 + 1) == [rows[1], rows[0]], \
            "unexpired rows, by address; the expired one is left out"
        assert await tx.live_data_planes(T0 + 15) == [], "expiry is exclusive"
    renewed = DataPlaneRow("dp-b", "10.0.0.2:1", T0, T0 + 10, T0 + 25)
    async with store.write() as tx:
        await tx.put_data_plane(renewed)
        assert await tx.prune_data_planes(T0 - 10) == 1, "only the long-expired row goes"
        await tx.drop_data_plane("dp-a")
    async with store.read() as tx:
        assert await tx.live_data_planes(T0 + 20) == [renewed], \
            "a renewal moves the expiry and keeps the start; a dropped row is gone"
