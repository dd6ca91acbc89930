"""Helpers for the limits suite: servers started with explicit caps, sync stubs, RetryInfo."""

from __future__ import annotations

import os
import threading
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc as cp_grpc
from blockstore.v1 import data_plane_pb2_grpc as dp_grpc
from tests.hostile.hostile import failure
from tests.hostile.world import CHUNK, Stub, block, listing, target
from tests.observe import PROBE_OFFSET, chunks_stored, probe_refused_by_cap, until
from tests.serverproc import create_account

__all__ = ["Client", "HangingStream", "open_held", "upload_when_free", "stream_over",
           "retry_delay_s", "CHUNK", "block", "target", "listing"]


class Client:
    """One account's sync stubs on a channel of its own."""

    def __init__(self, address: str, data_dir=None, token: str = "") -> None:
        """A new account (made as `blockstore account create` makes it, in `data_dir`), or the
        account of `token`."""
        self.data_dir = data_dir
        if not token:
            acct = create_account(f"limits-{uuid.uuid4().hex[:8]}", data_dir=data_dir)
            self.account_id, token = acct["account_id"], acct["token"]
        self.token = token
        self.channel = grpc.insecure_channel(address)
        self.cp = Stub(cp_grpc.ControlPlaneServiceStub(self.channel), self.token)
        self.dp = Stub(dp_grpc.DataPlaneServiceStub(self.channel), self.token)

    def volume(self, size: int = 1 << 20) -> str:
        return self.cp.CreateVolume(cpb.CreateVolumeRequest(size_bytes=size, chunk_size=CHUNK)
                                    ).volume.volume_id

    def close(self) -> None:
        self.channel.close()


class HangingStream:
    """An UploadBlocks stream that sends a target and some blocks, then waits, holding the
    stream open, until `release()` (half-close: commit) or `cancel()`.

    Opening it waits until the server either took its blocks in (`taken`: their chunks
    are stored, so the stream holds its slot) or ended the call (a refusal, a deadline)."""

    def __init__(self, client: Client, volume_id: str, blocks: int = 2, first: int = 0,
                 timeout: float | None = None) -> None:
        self._go = threading.Event()
        self.volume_id = volume_id
        datas = [os.urandom(CHUNK) for _ in range(blocks)]

        def messages():
            yield target(volume_id)
            for i, data in enumerate(datas, start=first):
                yield block(i * CHUNK, data, CHUNK)
            self._go.wait(60)

        self.call = client.dp.stub.UploadBlocks.future(messages(), metadata=client.dp.md,
                                                       timeout=timeout)
        until(lambda: self.call.done() or chunks_stored(client.data_dir, datas),
              "the server took the stream in or ended it")
        self.taken = chunks_stored(client.data_dir, datas)

    def release(self):
        self._go.set()
        return self.call.result(timeout=30)

    def cancel(self) -> None:
        self.call.cancel()
        self._go.set()

    def error(self, timeout: float = 30) -> grpc.RpcError:
        try:
            self.call.result(timeout=timeout)
        except grpc.RpcError as err:
            return err
        raise AssertionError("stream succeeded; expected it to fail")


def open_held(client: Client, volume_id: str, n: int, timeout: float | None = None,
              **kw) -> list[HangingStream]:
    """`n` streams the server took in, once the account has `n` free slots (streams it
    ended earlier give theirs back). With a deadline, streams that expire before the
    server took them prove nothing: the attempt is repeated with twice the deadline."""
    wait = {"timeout": timeout}

    def attempt() -> list[HangingStream] | None:
        streams = [HangingStream(client, volume_id, timeout=wait["timeout"], first=2 * i, **kw)
                   for i in range(n)]
        if all(s.taken for s in streams):
            return streams
        for s in streams:
            s.cancel()
        if wait["timeout"]:
            wait["timeout"] *= 2
        return None
    return until(attempt, f"{n} upload streams of one account open at once")


def upload_when_free(client: Client, messages: list):
    """The upload's reply, once the account's stream cap lets it in."""
    def attempt():
        try:
            return client.dp.UploadBlocks(iter(messages))
        except grpc.RpcError as err:
            if failure(err)[1] != "TOO_MANY_UPLOAD_STREAMS":
                raise
            return None
    return until(attempt, "the account's stream slots came back")


def stream_over(client: Client, volume_id: str) -> None:
    """On a server with one stream per account: wait until the account's stream ended."""
    def probe_got_in() -> bool:
        with pytest.raises(grpc.RpcError) as caught:
            client.dp.UploadBlocks(iter([target(volume_id),
                                         block(PROBE_OFFSET, os.urandom(CHUNK), CHUNK)]))
        return not probe_refused_by_cap(caught.value)
    until(probe_got_in, "the account's stream ended on the server")


def retry_delay_s(err: grpc.RpcError) -> float:
    """The google.rpc.RetryInfo delay of a failed call (asserts there is one)."""
    status = rpc_status.from_call(err)
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.ToTimedelta().total_seconds()
    raise AssertionError(f"{err.code().name} {err.details()!r} carries no RetryInfo")


@pytest.fixture
def clients(request):
    made: list[Client] = []

    def make(server) -> Client:
        made.append(Client(server.address, server.data_dir))
        return made[-1]

    yield make
    for c in made:
        c.close()
