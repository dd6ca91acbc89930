"""Idempotency keys on CreateVolume and CreateSnapshot (docs/design.md invariant 6): a retry
returns the first result and creates nothing; a changed request is ALREADY_EXISTS; 16
concurrent duplicates create one resource; keys are per account and per operation and
expire after the configured TTL (fake clock, in-process server)."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

import grpc

from blockstore.urls import sqlite_url
from blockstore.clock import FakeClock
from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc
from control_plane.config import ControlPlaneConfig
from manifest import open_manifest
from services import server as server_mod
from services.accounts import create_account
from services.config import ServerConfig
from tests.conftest import AuthedStub
from tests.control_plane.helpers import (MIB, UPLOAD, all_snapshot_ids, all_volume_ids,
                                         get_volume, initial_snapshot_id, new_volume)
from tests.rpcerrors import expect_error

EXISTS = grpc.StatusCode.ALREADY_EXISTS


def create_volume(key: str, size: int = 8 * MIB, **fields) -> cpb.CreateVolumeRequest:
    return cpb.CreateVolumeRequest(size_bytes=size, idempotency_key=key, **fields)


async def test_retry_with_same_key_and_params_returns_first_volume_and_creates_nothing(cp):
    first = await cp.CreateVolume(create_volume("vol-key-1", labels={"a": "1"}))
    again = await cp.CreateVolume(create_volume("vol-key-1", labels={"a": "1"}))
    assert again == first, "a retry returns the first response, byte for byte"
    assert await all_volume_ids(cp) == [first.volume.volume_id], "a retry creates nothing"


async def test_same_key_with_different_params_is_idempotency_key_reused(cp):
    await cp.CreateVolume(create_volume("vol-key-2"))
    for changed in (create_volume("vol-key-2", size=16 * MIB),
                    create_volume("vol-key-2", labels={"b": "2"}),
                    create_volume("vol-key-2", chunk_size=128 * 1024)):
        await expect_error(cp.CreateVolume(changed), EXISTS, "IDEMPOTENCY_KEY_REUSED",
                           names="vol-key-2")
    assert len(await all_volume_ids(cp)) == 1, "a rejected reuse creates nothing"


async def test_no_key_means_every_call_creates(cp):
    for _ in range(2):
        await cp.CreateVolume(cpb.CreateVolumeRequest(size_bytes=8 * MIB))
    assert len(await all_volume_ids(cp)) == 2, "without a key, two creates are two volumes"


async def test_sixteen_concurrent_create_volume_with_one_key_make_one_volume(cp):
    responses = await asyncio.gather(*(cp.CreateVolume(create_volume("race-vol"))
                                       for _ in range(16)))
    assert all(r == responses[0] for r in responses), "all 16 responses are identical"
    assert await all_volume_ids(cp) == [responses[0].volume.volume_id], \
        "16 concurrent duplicates create exactly one volume"


async def test_sixteen_concurrent_create_snapshot_with_one_key_make_one_snapshot(cp):
    volume = await new_volume(cp)
    request = cpb.CreateSnapshotRequest(volume_id=volume.volume_id, mode=UPLOAD,
                                        idempotency_key="race-snap", description="d")
    responses = await asyncio.gather(*(cp.CreateSnapshot(request) for _ in range(16)))
    assert all(r == responses[0] for r in responses), "all 16 responses are identical"
    assert sorted(await all_snapshot_ids(cp)) == sorted(
        [responses[0].snapshot.snapshot_id, await initial_snapshot_id(cp, volume.volume_id)]), \
        "16 concurrent duplicates create exactly one snapshot (besides the initial one)"
    assert (await get_volume(cp, volume.volume_id)).open_version == 3, \
        "duplicates take no extra version"


async def test_snapshot_retry_and_mismatched_reuse(cp):
    volume = await new_volume(cp)
    request = cpb.CreateSnapshotRequest(volume_id=volume.volume_id, idempotency_key="snap-k")
    first = await cp.CreateSnapshot(request)
    assert await cp.CreateSnapshot(request) == first, "a snapshot retry returns the first"
    assert len(await all_snapshot_ids(cp)) == 2, "a snapshot retry creates nothing (the " \
        "volume's initial snapshot and the first one)"
    changed = cpb.CreateSnapshotRequest(volume_id=volume.volume_id, idempotency_key="snap-k",
                                        description="other")
    await expect_error(cp.CreateSnapshot(changed), EXISTS, "IDEMPOTENCY_KEY_REUSED",
                       names="snap-k")
    other_volume = await new_volume(cp)
    await expect_error(cp.CreateSnapshot(cpb.CreateSnapshotRequest(
        volume_id=other_volume.volume_id, idempotency_key="snap-k")), EXISTS,
        "IDEMPOTENCY_KEY_REUSED", names="snap-k")


async def test_keys_are_scoped_per_operation(cp):
    volume = (await cp.CreateVolume(create_volume("shared-key"))).volume
    snap = await cp.CreateSnapshot(cpb.CreateSnapshotRequest(volume_id=volume.volume_id,
                                                             idempotency_key="shared-key"))
    assert snap.snapshot.volume_id == volume.volume_id, \
        "one key may be used once for CreateVolume and once for CreateSnapshot"


async def test_keys_are_scoped_per_account(cp, other_cp):
    mine = await cp.CreateVolume(create_volume("acct-key"))
    theirs = await other_cp.CreateVolume(create_volume("acct-key", size=16 * MIB))
    assert theirs.volume.volume_id != mine.volume.volume_id, \
        "another account's identical key creates its own volume, with its own params"
    assert await all_volume_ids(other_cp) == [theirs.volume.volume_id]


async def _in_process_server(tmp: Path, clock: FakeClock, ttl_s: float):
    db_url = sqlite_url(tmp / "manifest.db")
    store = await open_manifest(db_url)
    try:
        _, token = await create_account(store, "ttl", clock, ControlPlaneConfig().ids)
    finally:
        await store.close()
    config = ServerConfig(listen="127.0.0.1:0", db_url=db_url, planes=frozenset({"control"}))
    running = await server_mod.start(config, ControlPlaneConfig(idempotency_ttl_s=ttl_s,
                                                                clock=clock))
    return running, token


@asynccontextmanager
async def _in_process_cp(clock: FakeClock, ttl_s: float):
    """An authed ControlPlaneService stub on an in-process server, and its data dir."""
    with tempfile.TemporaryDirectory() as tmp:
        running, token = await _in_process_server(Path(tmp), clock, ttl_s)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
                yield (AuthedStub(control_plane_pb2_grpc.ControlPlaneServiceStub(channel),
                                  token), Path(tmp))
        finally:
            await running.stop(None)


async def test_key_expires_after_ttl_and_then_creates_a_new_volume():
    clock = FakeClock()
    async with _in_process_cp(clock, ttl_s=3600) as (cp, _):
        first = await cp.CreateVolume(create_volume("ttl-key"))
        clock.advance(3599)
        assert await cp.CreateVolume(create_volume("ttl-key")) == first, \
            "within the TTL the key returns the first volume"
        clock.advance(2)
        later = await cp.CreateVolume(create_volume("ttl-key"))
        assert later.volume.volume_id != first.volume.volume_id, \
            "after the TTL the key creates a new volume"
        assert await cp.CreateVolume(create_volume("ttl-key")) == later, \
            "the renewed key now returns the new volume"
        assert len(await all_volume_ids(cp)) == 2


async def test_expired_records_are_purged_by_later_keyed_creates():
    clock = FakeClock()
    async with _in_process_cp(clock, ttl_s=60) as (cp, data_dir):
        for i in range(5):
            await cp.CreateVolume(create_volume(f"old-{i}"))
        clock.advance(61)
        await cp.CreateVolume(create_volume("new-0"))
        with sqlite3.connect(data_dir / "manifest.db") as db:
            keys = sorted(k for (k,) in db.execute("SELECT key FROM idempotency_keys"))
        assert keys == ["new-0"], "records past their TTL do not pile up"
