"""Per-account caps: concurrent upload streams (per data-plane process) and pending
snapshots. Each refusal is RESOURCE_EXHAUSTED with its reason and a RetryInfo, hits
only the account at its cap, and lifts as soon as the account is below it again."""

from __future__ import annotations

import os

import grpc
import pytest

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import control_plane_pb2 as cpb
from tests.hostile.hostile import failure
from tests.limits.conftest import (CHUNK, HangingStream, block, listing, open_held,
                                   retry_delay_s, target, upload_when_free)
from tests.serverproc import serve

STREAM_CAP, SNAPSHOT_CAP = 2, 3
UPLOAD, PIT = pb.SNAPSHOT_MODE_UPLOAD, pb.SNAPSHOT_MODE_POINT_IN_TIME


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = serve(tmp_path_factory.mktemp("limits"),
                 "--max-upload-streams-per-account", str(STREAM_CAP),
                 "--max-pending-snapshots-per-account", str(SNAPSHOT_CAP))
    proc.data_dir = proc.args[proc.args.index("--data-dir") + 1]
    yield proc
    proc.stop()


def refused_stream(client, volume_id: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        client.dp.UploadBlocks(iter([target(volume_id),
                                     block(9 * CHUNK, os.urandom(CHUNK), CHUNK)]))
    return caught.value


def test_upload_stream_cap_per_account(server, clients):
    a, b = clients(server), clients(server)
    va, vb = a.volume(), b.volume()
    held = open_held(a, va, STREAM_CAP)
    err = refused_stream(a, va)
    assert failure(err) == ("RESOURCE_EXHAUSTED", "TOO_MANY_UPLOAD_STREAMS"), err.details()
    assert 0 < retry_delay_s(err) <= 60, "a refusal tells the client when to retry"
    assert a.account_id in err.details()
    # Fairness: another account is not affected by A's streams.
    b.dp.UploadBlocks(iter([target(vb), block(0, os.urandom(CHUNK), CHUNK)]))
    # The refused stream committed nothing; the held ones commit when they half-close.
    assert all(offset != 9 * CHUNK for offset, *_ in listing(a.dp, volume_id=va))
    reply = held[0].release()
    assert reply.blocks_written == 2
    a.dp.UploadBlocks(iter([target(va), block(8 * CHUNK, os.urandom(CHUNK), CHUNK)]))
    held[1].release()
    assert len(listing(a.dp, volume_id=va)) == 2 * STREAM_CAP + 1


def test_cancelled_and_expired_streams_give_their_slot_back(server, clients):
    a = clients(server)
    va = a.volume()
    for _ in range(2):
        # Each open_held waits (with a deadline) until every slot of the account is free
        # again: slots that never came back fail the test there.
        for s in open_held(a, va, STREAM_CAP):
            s.cancel()
        for s in open_held(a, va, STREAM_CAP, timeout=0.5):
            assert s.error().code() == grpc.StatusCode.DEADLINE_EXCEEDED
    upload_when_free(a, [target(va), block(0, os.urandom(CHUNK), CHUNK)])
    assert [o for o, *_ in listing(a.dp, volume_id=va)] == [0], \
        "cancelled and expired streams commit nothing"


def snapshot(client, volume_id: str, mode=UPLOAD, key: str = ""):
    return client.cp.CreateSnapshot(cpb.CreateSnapshotRequest(
        volume_id=volume_id, mode=mode, idempotency_key=key)).snapshot


def refused_snapshot(client, volume_id: str, mode=UPLOAD) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        snapshot(client, volume_id, mode)
    return caught.value


def test_pending_snapshot_cap_per_account(server, clients):
    a, b = clients(server), clients(server)
    v1, v2, v3 = a.volume(), a.volume(), a.volume()
    first = snapshot(a, v1, key="k1")
    pending = [first, snapshot(a, v1), snapshot(a, v2)]
    assert all(s.state == pb.SNAPSHOT_STATE_PENDING for s in pending)

    err = refused_snapshot(a, v3)
    assert failure(err) == ("RESOURCE_EXHAUSTED", "TOO_MANY_PENDING_SNAPSHOTS"), err.details()
    assert 0 < retry_delay_s(err) <= 60
    # A point-in-time snapshot queued behind a pending one would be pending too: refused.
    err = refused_snapshot(a, v2, PIT)
    assert failure(err)[1] == "TOO_MANY_PENDING_SNAPSHOTS"
    # One that completes at once is never pending: allowed at the cap.
    assert snapshot(a, v3, PIT).state == pb.SNAPSHOT_STATE_COMPLETED
    # Retrying an already-made create with its idempotency key returns it, cap or not.
    assert snapshot(a, v1, key="k1").snapshot_id == first.snapshot_id
    # Fairness: B has its own count.
    assert snapshot(b, b.volume()).state == pb.SNAPSHOT_STATE_PENDING
    # Nothing was created by the refusals.
    listed = a.cp.ListSnapshots(cpb.ListSnapshotsRequest(page_size=100)).snapshots
    assert sorted(s.state for s in listed).count(pb.SNAPSHOT_STATE_PENDING) == SNAPSHOT_CAP

    # Completing one (progress 1.0) or deleting one frees a place.
    a.cp.ReportSnapshotProgress(cpb.ReportSnapshotProgressRequest(
        snapshot_id=first.snapshot_id, progress=1.0))
    fourth = snapshot(a, v3)
    refused_snapshot(a, v3)
    a.cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=fourth.snapshot_id))
    snapshot(a, v3)


def test_total_upload_stream_cap_bounds_the_process(tmp_path, clients):
    proc = serve(tmp_path, "--max-upload-streams-per-account", "2", "--max-upload-streams", "3")
    proc.data_dir = str(tmp_path)
    try:
        a, b, c = clients(proc), clients(proc), clients(proc)
        va, vb, vc = a.volume(), b.volume(), c.volume()
        held = [HangingStream(a, va, first=0), HangingStream(a, va, first=2),
                HangingStream(b, vb, first=0)]
        assert all(s.taken for s in held), "the server holds three streams"
        err = refused_stream(c, vc)
        assert failure(err) == ("RESOURCE_EXHAUSTED", "TOO_MANY_UPLOAD_STREAMS"), \
            "with 3 streams open on the process, a fourth account is refused too"
        assert 0 < retry_delay_s(err) <= 60
        held[2].release()
        c.dp.UploadBlocks(iter([target(vc), block(0, os.urandom(CHUNK), CHUNK)]))
        for stream in held[:2]:
            stream.release()
        assert len(listing(c.dp, volume_id=vc)) == 1, "a freed slot lets it in"
    finally:
        proc.stop()
