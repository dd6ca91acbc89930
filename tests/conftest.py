"""Shared fixtures: real server processes on loopback, real gRPC channels.

- `server`: one `blockstore serve` per test module, on its own data directory.
- `account`: a fresh account (made in-process, as `blockstore account create` makes it:
  tests/serverproc.py) so tests in one module never see each other's resources.
- `cp` / `dp`: grpc.aio stubs of both services with the account's bearer token.
- `other_account`, `other_cp`, `other_dp`: a second account on the same server, for
  isolation tests.
- `manifest_url`: a fresh manifest database once per backend (SQLite, PostgreSQL), for
  the suites whose meaning must hold on both (tests/manifest, tests/scale).

Under pytest-xdist (`scripts/test.sh -n 2 --dist loadfile`) the hooks at the end carry the
hostile suite's tally of examples from the workers to the summary.
"""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path

import grpc
import pytest

from blockstore.v1 import control_plane_pb2_grpc, data_plane_pb2_grpc
from blockstore.urls import sqlite_url
from tests.backends import BACKENDS, StorePair, db_url, template_cluster
from tests.hostile.hostile import TALLY
from tests.s3server import start_seaweedfs
from tests.serverproc import create_account, serve

_names = itertools.count()
BUCKETS = ("conformance", "blockstore")     # tests share these, each under its own prefix


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL cluster for the whole run, started on first use."""
    with template_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def seaweedfs():
    """One SeaweedFS (S3 gateway) for the whole run, started on first use; tests keep
    apart by bucket or key prefix."""
    weed = start_seaweedfs()
    try:
        for bucket in BUCKETS:
            weed.make_bucket(bucket)
        yield weed
    finally:
        weed.stop()


def start_server(tmp_path_factory, request, backend: str = "sqlite"):
    """`blockstore serve` on a fresh data dir, its manifest on `backend`."""
    data_dir = tmp_path_factory.mktemp("data")
    cluster = request.getfixturevalue("pg_cluster") if backend == "postgresql" else None
    url = db_url(backend, data_dir, cluster)
    proc = serve(data_dir, "--db", url)
    proc.backend = backend
    return proc


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    proc = start_server(tmp_path_factory, request)
    yield proc
    proc.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def backend_server(tmp_path_factory, request):
    """`server` once per manifest backend (control-plane and data-plane suites)."""
    proc = start_server(tmp_path_factory, request, request.param)
    yield proc
    proc.stop()


@pytest.fixture(params=BACKENDS)
def manifest_url(request, tmp_path):
    """A fresh manifest database's URL, once per backend (a sync fixture: the session's
    PostgreSQL cluster is started with asyncio.run)."""
    cluster = request.getfixturevalue("pg_cluster") if request.param == "postgresql" else None
    return db_url(request.param, tmp_path, cluster)


@pytest.fixture(params=["sqlite+dir", "pg+s3"])
def store_pair(request, tmp_path):
    """The embedded stores, then the scale-out ones (tests/backends.py StorePair)."""
    return StorePair(request, tmp_path / "data")


def db_of(server) -> str:
    """The server's manifest URL (`serve` records it; a bare ServerProcess has a data dir)."""
    return getattr(server, "db_url", None) or sqlite_url(Path(server.data_dir) / "manifest.db")


@pytest.fixture
def account(server):
    return create_account(f"acct-{next(_names)}-{uuid.uuid4().hex[:6]}", db=db_of(server))


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
    return create_account(f"other-{uuid.uuid4().hex[:10]}", db=db_of(server))


@pytest.fixture
def other_cp(channel, other_account):
    return AuthedStub(control_plane_pb2_grpc.ControlPlaneServiceStub(channel),
                      other_account["token"])


@pytest.fixture
def other_dp(channel, other_account):
    return AuthedStub(data_plane_pb2_grpc.DataPlaneServiceStub(channel), other_account["token"])


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):          # an xdist worker
        session.config.workeroutput["hostile_tally"] = dict(TALLY)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    TALLY.update(getattr(node, "workeroutput", {}).get("hostile_tally", {}))


def pytest_terminal_summary(terminalreporter):
    if not TALLY:
        return
    terminalreporter.section("hostile input: hypothesis examples per RPC")
    for rpc, count in sorted(TALLY.items()):
        terminalreporter.write_line(f"{rpc:28s} {count:6d}")
    terminalreporter.write_line(f"{'total':28s} {sum(TALLY.values()):6d}")
