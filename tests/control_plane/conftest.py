"""Control-plane fixtures on top of tests/conftest.py (real `blockstore serve`).

`cp` is the first account's authed stub; `other_cp` a second account on the same
server, for isolation tests.
"""

from __future__ import annotations

import uuid

import pytest

from blockstore.v1 import control_plane_pb2_grpc
from tests.conftest import AuthedStub
from tests.serverproc import create_account


@pytest.fixture
def other_account(server):
    return create_account(f"other-{uuid.uuid4().hex[:10]}", data_dir=server.data_dir)


@pytest.fixture
def other_cp(channel, other_account):
    return AuthedStub(control_plane_pb2_grpc.ControlPlaneServiceStub(channel),
                      other_account["token"])
