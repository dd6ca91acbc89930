"""Stalled UploadBlocks streams cannot starve other streams or accounts.

- A stream takes an upload slot only once its target message has arrived, so streams
  that open and send nothing hold nothing.
- A stream that sends nothing for `--stream-idle-timeout` seconds ends with
  DEADLINE_EXCEEDED `STREAM_IDLE_TIMEOUT`, commits nothing and gives its slot back.
- The last quarter of the process's slots only go to an account's first stream, so a
  few accounts cannot exhaust the global cap.
"""

from __future__ import annotations

import os
import threading
import time

import grpc
import pytest

from tests.hostile.hostile import failure
from tests.limits.conftest import CHUNK, Client, HangingStream, block, listing, target
from tests.serverproc import serve

PER_ACCOUNT, TOTAL, IDLE_S = 4, 8, 1.5


class SilentStream:
    """An UploadBlocks call that is open but sends no message until `cancel()`."""

    def __init__(self, client: Client) -> None:
        self._go = threading.Event()

        def messages():
            self._go.wait(60)
            return
            yield  # pragma: no cover  (a generator that yields nothing)

        self.call = client.dp.stub.UploadBlocks.future(messages(), metadata=client.dp.md,
                                                       timeout=60)

    def cancel(self) -> None:
        self.call.cancel()
        self._go.set()


def start(tmp_path_factory, *extra: str):
    proc = serve(tmp_path_factory.mktemp("stalls"),
                 "--max-upload-streams-per-account", str(PER_ACCOUNT),
                 "--max-upload-streams", str(TOTAL), *extra)
    proc.data_dir = proc.args[proc.args.index("--data-dir") + 1]
    return proc


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = start(tmp_path_factory)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory):
    proc = start(tmp_path_factory, "--stream-idle-timeout", str(IDLE_S))
    yield proc
    proc.stop()


def client_maker(server):
    made: list[Client] = []

    def make() -> Client:
        made.append(Client(server.address, server.data_dir))
        return made[-1]

    return made, make


@pytest.fixture
def clients(server):
    made, make = client_maker(server)
    yield make
    for c in made:
        c.close()


@pytest.fixture
def idle_clients(idle_server):
    made, make = client_maker(idle_server)
    yield make
    for c in made:
        c.close()


def upload_one(client: Client, volume_id: str, index: int) -> None:
    client.dp.UploadBlocks(iter([target(volume_id),
                                 block(index * CHUNK, os.urandom(CHUNK), CHUNK)]))


def refusal(client: Client, volume_id: str, within_s: float = 15) -> grpc.RpcError:
    """The refusal of a further stream of `client`, once the server has taken in the
    streams just opened (a new stream succeeds until then)."""
    deadline = time.monotonic() + within_s
    index = 100
    while time.monotonic() < deadline:
        try:
            upload_one(client, volume_id, index)
        except grpc.RpcError as err:
            return err
        index += 1
    raise AssertionError(f"no stream of {client.account_id} was refused in {within_s} s")


def test_streams_that_send_nothing_hold_no_slot(server, clients):
    a = clients()
    va = a.volume()
    silent = [SilentStream(a) for _ in range(2 * PER_ACCOUNT)]
    try:
        # The silent calls are open on the server while this upload runs: were a slot
        # taken before the target arrived, this would be TOO_MANY_UPLOAD_STREAMS.
        for i in range(PER_ACCOUNT):
            upload_one(a, va, i)
    finally:
        for s in silent:
            s.cancel()
    assert len(listing(a.dp, volume_id=va)) == PER_ACCOUNT


def test_a_stalled_stream_times_out_commits_nothing_and_frees_its_slot(idle_clients):
    a = idle_clients()
    va = a.volume()
    held = [HangingStream(a, va, first=2 * i, timeout=60) for i in range(PER_ACCOUNT)]
    for stream in held:
        err = stream.error(timeout=30)
        assert failure(err) == ("DEADLINE_EXCEEDED", "STREAM_IDLE_TIMEOUT"), err.details()
        assert va in err.details()
    for stream in held:
        stream.cancel()
    assert listing(a.dp, volume_id=va) == [], "a stream cut off for idling commits nothing"
    upload_one(a, va, 12)           # every slot was given back
    assert len(listing(a.dp, volume_id=va)) == 1


@pytest.fixture
def fresh_clients(tmp_path_factory):
    """A server of this test's own: slots that an earlier test's cancelled streams still
    hold (the server frees them asynchronously) must not change the count here."""
    proc = start(tmp_path_factory)
    made, make = client_maker(proc)
    yield make
    for c in made:
        c.close()
    proc.stop()


def test_a_few_accounts_cannot_exhaust_the_global_cap(fresh_clients):
    a, b, c = fresh_clients(), fresh_clients(), fresh_clients()
    va, vb, vc = a.volume(), b.volume(64 << 20), c.volume()
    held = [HangingStream(a, va, first=2 * i, timeout=60) for i in range(PER_ACCOUNT)]
    held += [HangingStream(b, vb, first=2 * i, timeout=60) for i in range(2)]
    try:
        assert all(s.taken for s in held), "every held stream holds a slot before the probe"
        refused = refusal(b, vb)
        assert failure(refused) == ("RESOURCE_EXHAUSTED", "TOO_MANY_UPLOAD_STREAMS")
        upload_one(c, vc, 0)        # a newcomer's first stream still finds a slot
    finally:
        for stream in held:
            stream.cancel()
    assert len(listing(c.dp, volume_id=vc)) == 1
