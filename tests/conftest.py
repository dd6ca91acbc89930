"""Shared fixtures: real server processes on loopback, real gRPC channels.

- `server`: one `blockstore serve` per test module, on its own data directory.
- `account`: a fresh account (created with the real `blockstore account create`)
  so tests in one module never see each other's resources.
- `cp` / `dp`: grpc.aio stubs of both services with the account's bearer token.
- `other_account`, `other_cp`, `other_dp`: a second account on the same server, for
  isolation tests.
"""

from __future__ import annotations

import itertools
import uuid

import grpc
import pytest

from blockstore.v1 import control_plane_pb2_grpc, data_plane_pb2_grpc
from tests.serverproc import create_account, serve

_names = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = serve(tmp_path_factory.mktemp("data"))
    proc.data_dir = proc.args[proc.args.index("--data-dir") + 1]
    yield proc
    proc.stop()


@pytest.fixture
def account(server):
    return create_account(f"acct-{next(_names)}-{uuid.uuid4().hex[:6]}", data_dir=server.data_dir)


def metadata(token: str) -> tuple:
    return (("authorization", f"Bearer {token}"),)


class AuthedStub:
    """Wraps a generated stub so every call carries the account's bearer token."""

    def __init__(self, stub, token: str):
        self._stub, self._md = stub, metadata(token)

    def __getattr__(self, name):
        method = getattr(self._stub, name)

        def call(*args, **kwargs):
            kwargs.setdefault("metadata", self._md)
            return method(*args, **kwargs)

        return call


@pytest.fixture
async def channel(server):
    ch = grpc.aio.insecure_channel(server.address, options=[
        ("grpc.max_receive_message_length", 64 << 20),
        ("grpc.max_send_message_length", 64 << 20)])
    yield ch
    await ch.close()


@pytest.fixture
def cp(channel, account):
    return AuthedStub(control_plane_pb2_grpc.ControlPlaneServiceStub(channel), account["token"])


@pytest.fixture
def dp(channel, account):
    return AuthedStub(data_plane_pb2_grpc.DataPlaneServiceStub(channel), account["token"])


@pytest.fixture
def other_account(server):
    return create_account(f"other-{uuid.uuid4().hex[:10]}", data_dir=server.data_dir)


@pytest.fixture
def other_cp(channel, other_account):
    return AuthedStub(control_plane_pb2_grpc.ControlPlaneServiceStub(channel),
                      other_account["token"])


@pytest.fixture
def other_dp(channel, other_account):
    return AuthedStub(data_plane_pb2_grpc.DataPlaneServiceStub(channel), other_account["token"])
