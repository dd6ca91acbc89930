"""StartSnapshot's Timeout (ebs_facade/timeouts.py): a snapshot nobody puts to or
completes for Timeout minutes is cancelled, by the server's sweep or by the next call
that finds it late; each put moves the deadline; a completed one is left alone.

In-process server (the real wiring of services/server.py) with the control plane's
clock injected, so minutes pass at once; the sweep runs every 0.1 s here and the test
polls the snapshot's state with a deadline. boto3 runs in a worker thread (the server
shares this event loop) and signs with the real time, which SigV4 checks."""

from __future__ import annotations

import asyncio
import os
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from blockstore.clock import FakeClock, RandomIds
from blockstore.urls import file_url, sqlite_url
from control_plane.config import ControlPlaneConfig
from ebs_facade import timeouts
from manifest.lookups import require_snapshot
from services.accounts import create_account_with_key
from services.config import ServerConfig
from services.server import start
from tests.ebs.conftest import BLOCK, sha

MINUTE = 60


@pytest.fixture
async def ebs_server(tmp_path, monkeypatch, request):
    monkeypatch.setattr(timeouts, "SWEEP_S", getattr(request, "param", 0.1))
    clock = FakeClock(time.time_ns() // 1000)
    running = await start(ServerConfig(listen="127.0.0.1:0",
                                       db_url=sqlite_url(tmp_path / "m.db"),
                                       chunks_url=file_url(tmp_path / "chunks"),
                                       ebs_listen="127.0.0.1:0"),
                          ControlPlaneConfig(clock=clock))
    account, _, key = await create_account_with_key(running.store, "timeouts", clock,
                                                    RandomIds())
    ebs = boto3.session.Session().client(
        "ebs", endpoint_url=f"http://127.0.0.1:{running.ebs_port}", region_name="us-east-1",
        aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key,
        config=Config(retries={"max_attempts": 1}, parameter_validation=False))
    yield running, clock, account.account_id, ebs
    await running.stop(0)


async def call(fn, **kw):
    return await asyncio.to_thread(fn, **kw)


async def put(ebs, sid: str, index: int) -> None:
    data = os.urandom(BLOCK)
    await call(ebs.put_snapshot_block, SnapshotId=sid, BlockIndex=index, BlockData=data,
               DataLength=BLOCK, Checksum=sha(data), ChecksumAlgorithm="SHA256")


async def state(running, account_id: str, sid: str) -> str:
    async with running.store.read() as tx:
        try:
            snap = await require_snapshot(tx, account_id, sid)
        except Exception:
            return "gone"
        return "completed" if snap.completed else "pending"


async def until_gone(running, account_id: str, sid: str, within_s: float = 30) -> None:
    deadline = time.monotonic() + within_s
    while await state(running, account_id, sid) != "gone":
        assert time.monotonic() < deadline, f"{sid} still there after {within_s} s"
        await asyncio.sleep(0.05)


async def test_an_idle_snapshot_is_cancelled_and_puts_move_the_deadline(ebs_server):
    running, clock, account_id, ebs = ebs_server
    idle = (await call(ebs.start_snapshot, VolumeSize=1, Timeout=10))["SnapshotId"]
    busy = (await call(ebs.start_snapshot, VolumeSize=1, Timeout=10))["SnapshotId"]
    done = (await call(ebs.start_snapshot, VolumeSize=1, Timeout=10))["SnapshotId"]
    await put(ebs, idle, 0)
    await put(ebs, done, 0)
    await call(ebs.complete_snapshot, SnapshotId=done, ChangedBlocksCount=1)
    clock.advance(9 * MINUTE)
    await put(ebs, busy, 0)                          # busy's deadline: now + 10 minutes
    clock.advance(2 * MINUTE)                        # idle: 11 minutes since its last put
    await until_gone(running, account_id, idle)
    assert await state(running, account_id, busy) == "pending", "its put moved the deadline"
    assert await state(running, account_id, done) == "completed"
    with pytest.raises(ClientError) as err:
        await put(ebs, idle, 1)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    await put(ebs, busy, 1)
    assert (await call(ebs.complete_snapshot, SnapshotId=busy,
                       ChangedBlocksCount=2))["Status"] == "completed"


@pytest.mark.parametrize("ebs_server", [3600.0], indirect=True)   # no sweep in time
async def test_a_late_put_or_complete_cancels_it_without_waiting_for_the_sweep(ebs_server):
    running, clock, account_id, ebs = ebs_server
    late_put = (await call(ebs.start_snapshot, VolumeSize=1, Timeout=10))["SnapshotId"]
    late_complete = (await call(ebs.start_snapshot, VolumeSize=1))["SnapshotId"]  # 60 min
    await put(ebs, late_complete, 0)
    clock.advance(61 * MINUTE)
    with pytest.raises(ClientError) as err:
        await put(ebs, late_put, 0)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "Timeout" in err.value.response["Message"]
    with pytest.raises(ClientError) as err:
        await call(ebs.complete_snapshot, SnapshotId=late_complete, ChangedBlocksCount=1)
    assert "Timeout" in err.value.response["Message"]
    for sid in (late_put, late_complete):
        assert await state(running, account_id, sid) == "gone"


async def test_timeout_outside_10_to_4320_minutes_is_refused(ebs_server):
    _, _, _, ebs = ebs_server
    for minutes in (0, 9, 4321):
        with pytest.raises(ClientError) as err:
            await call(ebs.start_snapshot, VolumeSize=1, Timeout=minutes)
        assert err.value.response["Error"]["Code"] == "ValidationException"
        assert "Timeout" in err.value.response["Message"]
