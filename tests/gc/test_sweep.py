"""The sweep in-process on real stores (SQLite file + chunk directory): what goes, what stays."""

from __future__ import annotations

import os
import socket
import time

import pytest

from chunkstore import Compression, blake3_token
from services.gc import GcConfig, collect_garbage
from services.lease import LEASE_NAME, LeaseBusy, maintenance_lease
from tests.gc.manifest_builder import ACCOUNT, volume, write

HOUR = 3600


async def put(store, chunks, data: bytes, *, age: float = 0, record: bool = True) -> bytes:
    token = blake3_token(data)
    await chunks.put(token, data, Compression.NONE, len(data))
    if age:
        t = time.time() - age
        os.utime(chunks.path_of(token), (t, t))
    if record:
        async with store.write() as tx:
            await tx.record_chunks([(token, len(data), len(data))], 0)
            await tx.add_account_tokens(ACCOUNT, [token])
    return token


async def known(store, token: bytes) -> bool:
    async with store.read() as tx:
        return bool(await tx.tokens_known(ACCOUNT, [token])) and bool(
            await tx.chunk_lengths([token]))


async def test_sweeps_only_old_unreferenced_chunks_and_forgets_their_rows(stores):
    store, chunks = stores
    vol = await volume(store)
    used = await put(store, chunks, b"used" * 100, age=2 * HOUR)
    old = await put(store, chunks, b"old" * 100, age=2 * HOUR)
    fresh = await put(store, chunks, b"fresh" * 100, age=10)
    await write(store, vol, {0: used})
    report = await collect_garbage(store, chunks, GcConfig(grace_s=HOUR))
    assert (report.chunks_swept, report.bytes_freed) == (1, 300)
    assert report.chunks_kept_fresh == 1
    assert await chunks.stat(old) is None and not await known(store, old), \
        "a swept chunk's rows go too, so FindMissingChunks reports it missing"
    for token in (used, fresh):
        assert await chunks.stat(token) is not None and await known(store, token)


async def test_a_chunk_refreshed_after_the_cutoff_keeps_its_file_and_rows(stores, monkeypatch):
    """Rows go first; if the conditional delete then finds the file fresh, they come back."""
    store, chunks = stores
    token = await put(store, chunks, b"raced" * 100, age=2 * HOUR)
    real_delete = chunks.delete

    async def touched_first(tok, *, older_than=None):
        await chunks.touch(tok)                  # an upload's dedup hit lands just now
        return await real_delete(tok, older_than=older_than)

    monkeypatch.setattr(chunks, "delete", touched_first)
    report = await collect_garbage(store, chunks, GcConfig(grace_s=HOUR))
    assert report.chunks_swept == 0
    assert await chunks.stat(token) is not None and await known(store, token)


async def test_old_temp_and_trash_files_go_fresh_ones_stay(stores):
    store, chunks = stores
    token = await put(store, chunks, b"x" * 100)
    d = chunks.path_of(token).parent
    old_tmp, old_trash, new_tmp = d / ".tmp-aa-1-2", d / ".trash-bb-3", d / ".tmp-cc-4-5"
    for p in (old_tmp, old_trash, new_tmp):
        p.write_bytes(b"leftover")
    t = time.time() - 2 * HOUR
    os.utime(old_tmp, (t, t))
    os.utime(old_trash, (t, t))
    report = await collect_garbage(store, chunks, GcConfig(grace_s=HOUR))
    assert (report.temp_files_removed, report.temp_bytes_removed) == (2, 16)
    assert new_tmp.exists() and not old_tmp.exists() and not old_trash.exists()


async def test_rows_of_vanished_unreferenced_chunks_are_forgotten(stores):
    store, chunks = stores
    gone = await put(store, chunks, b"gone" * 100)
    chunks.path_of(gone).unlink()
    report = await collect_garbage(store, chunks, GcConfig(grace_s=HOUR))
    assert report.chunk_rows_forgotten == 1 and not await known(store, gone)


async def test_one_run_at_a_time_and_a_dead_holder_is_replaced(stores):
    store, chunks = stores
    async with maintenance_lease(store):
        with pytest.raises(LeaseBusy):
            await collect_garbage(store, chunks, GcConfig())
    async with store.write() as tx:                   # a kill -9'd holder on this host
        await tx.put_lease(LEASE_NAME, f"{socket.gethostname()}:999999999:dead",
                           time.time() + HOUR)
    await collect_garbage(store, chunks, GcConfig())
    async with store.read() as tx:
        assert await tx.get_lease(LEASE_NAME) is None, "a finished run releases the lease"
