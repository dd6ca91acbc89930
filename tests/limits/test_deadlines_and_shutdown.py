"""Deadlines and SIGTERM: whatever ends a stream early, it commits all of its blocks or
none of them. SIGTERM stops new calls at once, lets in-flight streams finish within
--grace, and a stream still running after the grace period commits nothing."""

from __future__ import annotations

import os
import signal
import time

import grpc
import pytest

from blockstore.v1 import control_plane_pb2 as cpb
from tests.limits.conftest import (CHUNK, Client, HangingStream, block, listing, open_held,
                                   stream_over, target)
from tests.observe import until
from tests.serverproc import ServerProcess, serve

# Between SIGTERM and the release of the quick stream the test first waits to see new calls
# refused, which takes a few calls on a fresh channel: the release must still land in the
# grace period on a loaded machine.
GRACE = 4.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One stream per account at a time, so `stream_over` can see a stream end."""
    proc = serve(tmp_path_factory.mktemp("deadlines"), "--max-upload-streams-per-account", "1")
    proc.data_dir = proc.args[proc.args.index("--data-dir") + 1]
    yield proc
    proc.stop()


def test_deadline_expiring_mid_stream_commits_nothing(server, clients):
    a = clients(server)
    va = a.volume()
    [stream] = open_held(a, va, 1, blocks=4, timeout=0.6)   # the server took its blocks
    assert stream.error().code() == grpc.StatusCode.DEADLINE_EXCEEDED
    stream_over(a, va)
    assert listing(a.dp, volume_id=va) == [], "an expired stream commits no block"


def test_deadline_during_server_work_is_all_or_nothing(server, clients):
    """A half-closed stream whose deadline runs out while the server still hashes and
    stores its blocks: the reply and the stored rows agree, and nothing is half-written."""
    a = clients(server)
    outcomes = []
    for timeout in (0.02, 0.05, 0.1, 0.2, 0.4, 60.0):    # the last must be OK: generous
        va = a.volume(16 << 20)
        msgs = [target(va)] + [block(i * CHUNK, os.urandom(CHUNK), CHUNK) for i in range(64)]
        try:
            a.dp.stub.UploadBlocks(iter(msgs), metadata=a.dp.md, timeout=timeout)
            outcome = "OK"
        except grpc.RpcError as err:
            assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED, err.details()
            outcome = "DEADLINE_EXCEEDED"
        stream_over(a, va)
        rows = len(listing(a.dp, volume_id=va))
        outcomes.append((timeout, outcome, rows))
        assert rows in (0, 64), f"deadline {timeout}s left {rows} of 64 blocks: half a stream"
        if outcome == "OK":
            assert rows == 64
    assert outcomes[-1][1:] == ("OK", 64), outcomes
    assert any(o == "DEADLINE_EXCEEDED" and rows == 0 for _, o, rows in outcomes), outcomes


@pytest.fixture
def own_server(tmp_path):
    proc = serve(tmp_path, "--grace", str(GRACE))
    proc.data_dir = str(tmp_path)
    yield proc
    proc.stop()


def test_sigterm_drains_in_flight_streams_within_grace(own_server, clients):
    a = clients(own_server)
    finishing, stalled = a.volume(), a.volume()
    quick = HangingStream(a, finishing, blocks=3)
    slow = HangingStream(a, stalled, blocks=3)
    assert quick.taken and slow.taken, "both streams are in flight on the server"
    began = time.monotonic()
    own_server.proc.send_signal(signal.SIGTERM)

    # New calls are refused once the server took the signal, also on a fresh connection.
    def refused_on_a_fresh_connection() -> bool:
        late = Client(own_server.address, token=a.token)
        try:
            late.cp.ListVolumes(cpb.ListVolumesRequest(), timeout=2)
            return False
        except grpc.RpcError as err:
            # A call that raced the signal may be cut (CANCELLED); look again.
            assert err.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED), err
            return err.code() == grpc.StatusCode.UNAVAILABLE
        finally:
            late.close()
    until(refused_on_a_fresh_connection, "new calls are refused after SIGTERM")

    # A stream that half-closes within the grace period commits and gets its reply.
    assert quick.release().blocks_written == 3
    # One still running when the grace period ends is cut off and commits nothing.
    err = slow.error()
    assert err.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED), err
    assert own_server.proc.wait(GRACE + 15) == 0, "serve exits cleanly after SIGTERM"
    assert time.monotonic() - began < GRACE + 10, "shutdown honours --grace"
    slow.cancel()

    restarted = ServerProcess(own_server.args).start()
    try:
        b = Client(restarted.address, token=a.token)
        assert [o for o, *_ in listing(b.dp, volume_id=finishing)] == [0, CHUNK, 2 * CHUNK]
        assert listing(b.dp, volume_id=stalled) == [], \
            "a stream cut off by shutdown commits nothing"
        b.dp.UploadBlocks(iter([target(stalled), block(0, os.urandom(CHUNK), CHUNK)]))
        b.close()
    finally:
        restarted.stop()
