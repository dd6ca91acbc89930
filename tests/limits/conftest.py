"""Helpers for the limits suite: servers started with explicit caps, sync stubs, RetryInfo."""

from __future__ import annotations

import os
import threading
import time
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc as cp_grpc
from blockstore.v1 import data_plane_pb2_grpc as dp_grpc
from tests.hostile.world import CHUNK, Stub, block, listing, target
from tests.serverproc import create_account

__all__ = ["Client", "HangingStream", "retry_delay_s", "CHUNK", "block", "target", "listing"]


class Client:
    """One account's sync stubs on a channel of its own."""

    def __init__(self, address: str, data_dir=None, token: str = "") -> None:
        """A new account (made with `blockstore account create` in `data_dir`), or the
        account of `token`."""
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
    stream open, until `release()` (half-close: commit) or `cancel()`."""

    def __init__(self, client: Client, volume_id: str, blocks: int = 2, first: int = 0,
                 timeout: float | None = None) -> None:
        self._go = threading.Event()
        self.sent = threading.Event()
        self.volume_id = volume_id

        def messages():
            yield target(volume_id)
            for i in range(first, first + blocks):
                yield block(i * CHUNK, os.urandom(CHUNK), CHUNK)
            self.sent.set()
            self._go.wait(60)

        self.call = client.dp.stub.UploadBlocks.future(messages(), metadata=client.dp.md,
                                                       timeout=timeout)
        assert self.sent.wait(10), "stream did not start sending"

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


def settle(seconds: float = 0.3) -> None:
    """Let the server pick up streams the client just opened."""
    time.sleep(seconds)


@pytest.fixture
def clients(request):
    made: list[Client] = []

    def make(server) -> Client:
        made.append(Client(server.address, server.data_dir))
        return made[-1]

    yield make
    for c in made:
        c.close()
