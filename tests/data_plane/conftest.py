"""Data-plane fixtures on top of tests/conftest.py: a second account for isolation tests."""

from __future__ import annotations

import uuid

import pytest

from blockstore.v1 import control_plane_pb2_grpc, data_plane_pb2_grpc
from tests.conftest import AuthedStub
from tests.serverproc import create_account


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
