"""The active-operation record and chunk releases as the sweep sees them (real SQLite
file + chunk directory, in-process): what an operation older than the sweep may use
stays, whatever the grace period; records of dead or expired operations stop mattering.
"""

from __future__ import annotations

import socket
import time

from data_plane.operations import Operations
from manifest import ActiveOperation
from services.gc import GcConfig, collect_garbage
from tests.gc.manifest_builder import (compact, delete_snapshot, rows, snapshot, volume,
                                       write)
from tests.gc.test_sweep import HOUR, known, put

GRACE_0 = GcConfig(grace_s=0)


async def record(store, *, started: float, expires: float, holder: str = "",
                 vid: int | None = None, version: int | None = None) -> str:
    op_id = f"op-{started}-{expires}"
    async with store.write() as tx:
        await tx.start_operation(ActiveOperation(
            op_id, "download" if vid else "upload", "volume vol-x",
            holder or f"{socket.gethostname()}:1:live", vid, version, started, expires))
    return op_id


async def operations(store) -> list[str]:
    async with store.read() as tx:
        return [o.op_id for o in await tx.active_operations()]


async def test_a_chunk_put_after_an_active_operation_started_survives_grace_0(stores):
    """An upload put the chunk (or dedup-refreshed it) and has not committed yet."""
    store, chunks = stores
    op = await record(store, started=time.time() - 60, expires=time.time() + HOUR)
    relied_on = await put(store, chunks, b"in flight" * 50, age=30)
    abandoned = await put(store, chunks, b"abandoned" * 50, age=90)
    report = await collect_garbage(store, chunks, GRACE_0)
    assert report.active_operations == 1 and report.chunks_swept == 1
    assert await chunks.stat(relied_on) is not None and await known(store, relied_on)
    assert await chunks.stat(abandoned) is None, "older than the oldest operation: garbage"
    async with store.write() as tx:                      # the stream ends
        await tx.end_operations([op])
    assert (await collect_garbage(store, chunks, GRACE_0)).chunks_swept == 1


async def test_an_overwritten_chunk_stays_while_an_older_reader_runs(stores):
    store, chunks = stores
    vol = await volume(store)
    old = await put(store, chunks, b"old" * 100, age=2 * HOUR)
    new = await put(store, chunks, b"new" * 100, age=2 * HOUR)
    await write(store, vol, {0: old})
    op = await record(store, started=time.time() - 1, expires=time.time() + HOUR,
                      vid=vol.vid, version=1)
    await write(store, vol, {0: new})                    # in place: `old` is released now
    report = await collect_garbage(store, chunks, GcConfig(grace_s=HOUR))
    assert report.chunks_swept == 0 and await chunks.stat(old) is not None, \
        "the reader may have resolved the old row: its chunk stays"
    async with store.write() as tx:
        await tx.end_operations([op])
        assert await tx.released_since([old], 0) == {old}
    report = await collect_garbage(store, chunks, GcConfig(grace_s=HOUR, clock_slack_s=0))
    assert report.chunks_swept == 1 and await chunks.stat(old) is None, \
        "no reader left that started before the release: garbage"
    async with store.read() as tx:
        assert await tx.released_since([old], 0) == set(), "a moot release is pruned"


async def test_compaction_keeps_what_an_active_reader_of_a_deleted_snapshot_reads(stores):
    store, chunks = stores
    vol = await volume(store)
    await write(store, vol, {0: b"a" * 32})
    snap = await snapshot(store, vol)
    await write(store, vol, {0: b"b" * 32})
    op = await record(store, started=time.time(), expires=time.time() + HOUR,
                      vid=vol.vid, version=snap.version)
    await delete_snapshot(store, snap)
    assert await compact(store) == 0, "the reader still reads the snapshot's row"
    async with store.write() as tx:
        await tx.end_operations([op])
    assert await compact(store) == 1
    assert await rows(store, vol) == [(0, 2, b"b" * 32)]


async def test_records_of_expired_or_dead_operations_stop_holding_gc(stores):
    store, chunks = stores
    now = time.time()
    await record(store, started=now - 3 * HOUR, expires=now - 1)
    await record(store, started=now - 2 * HOUR, expires=now + HOUR,
                 holder=f"{socket.gethostname()}:999999999:dead")
    live = await record(store, started=now - 10, expires=now + HOUR)
    old = await put(store, chunks, b"old" * 100, age=HOUR)
    report = await collect_garbage(store, chunks, GRACE_0)
    assert await operations(store) == [live] and report.active_operations == 1
    assert report.chunks_swept == 1 and await chunks.stat(old) is None


async def test_the_process_record_renews_and_ends_with_its_operations(stores):
    store, _ = stores
    ops = Operations(store, ttl_s=HOUR)
    async with ops.running("upload") as op:
        await ops.record_alone(op, "volume vol-x")
        async with store.read() as tx:
            (row,) = await tx.active_operations()
        assert (row.op_id, row.kind) == (op.op_id, "upload")
        await ops.renew()
        async with store.read() as tx:
            (renewed,) = await tx.active_operations()
        assert renewed.expires_at >= row.expires_at
    assert await operations(store) == [], "the row goes when the operation ends"
    await ops.close()
