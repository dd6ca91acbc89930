"""Server TLS and mutual TLS on `serve`, `control-plane` and `data-plane`: a client that
trusts the CA (and, for mTLS, presents a certificate the CA signed) works, every other
client is turned away with UNAVAILABLE before any RPC runs, and health answers over TLS."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc as cp_grpc
from services.config import default_urls
from tests.serverproc import ServerProcess, blockstore_cmd, create_account, serve
from tests.tls.certs import have_openssl
from tests.tls.conftest import tls_channel

pytestmark = pytest.mark.skipif(not have_openssl(), reason="needs the openssl CLI")
SERVING = health_pb2.HealthCheckResponse.SERVING


def tls_flags(pki, mutual: bool = False) -> list[str]:
    flags = ["--tls-cert", str(pki.path("server.pem")), "--tls-key", str(pki.path("server.key"))]
    return flags + (["--tls-client-ca", str(pki.path("ca.pem"))] if mutual else [])


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory, pki):
    data = tmp_path_factory.mktemp("tls")
    proc = serve(data, *tls_flags(pki))
    yield proc, create_account("tls", data_dir=data)
    proc.stop()


@pytest.fixture(scope="module")
def mtls_server(tmp_path_factory, pki):
    data = tmp_path_factory.mktemp("mtls")
    proc = serve(data, *tls_flags(pki, mutual=True))
    yield proc, create_account("mtls", data_dir=data)
    proc.stop()


def list_volumes(channel: grpc.Channel, token: str):
    stub = cp_grpc.ControlPlaneServiceStub(channel)
    return stub.ListVolumes(cpb.ListVolumesRequest(), timeout=5,
                            metadata=(("authorization", f"Bearer {token}"),))


def health(channel: grpc.Channel) -> int:
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                     timeout=5).status


def refused(channel: grpc.Channel, token: str) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        list_volumes(channel, token)
    channel.close()
    return caught.value.code()


# --- server-only TLS ------------------------------------------------------------------------
def test_client_trusting_the_ca_works(tls_server, pki):
    proc, account = tls_server
    with tls_channel(proc.address, pki) as channel:
        list_volumes(channel, account["token"])
        assert health(channel) == SERVING


def test_client_without_the_ca_is_refused(tls_server, pki):
    """Default roots do not trust our CA: the handshake fails, UNAVAILABLE."""
    proc, account = tls_server
    assert refused(tls_channel(proc.address, pki, ca=None), account["token"]) == \
        grpc.StatusCode.UNAVAILABLE


def test_client_trusting_another_ca_is_refused(tls_server, pki):
    proc, account = tls_server
    assert refused(tls_channel(proc.address, pki, ca="rogue-ca.pem"), account["token"]) == \
        grpc.StatusCode.UNAVAILABLE


def test_plaintext_client_is_refused(tls_server):
    proc, account = tls_server
    assert refused(grpc.insecure_channel(proc.address), account["token"]) == \
        grpc.StatusCode.UNAVAILABLE


# --- mutual TLS -----------------------------------------------------------------------------
def test_mtls_client_with_certificate_works(mtls_server, pki):
    proc, account = mtls_server
    with tls_channel(proc.address, pki, cert="client.pem", key="client.key") as channel:
        list_volumes(channel, account["token"])
        assert health(channel) == SERVING


@pytest.mark.parametrize("cert", [None, "rogue"], ids=["no-certificate", "rogue-ca-cert"])
def test_mtls_client_without_a_trusted_certificate_is_refused(mtls_server, pki, cert):
    proc, account = mtls_server
    channel = tls_channel(proc.address, pki, cert=cert and f"{cert}.pem",
                          key=cert and f"{cert}.key")
    assert refused(channel, account["token"]) == grpc.StatusCode.UNAVAILABLE


def test_mtls_health_needs_a_certificate_too(mtls_server, pki):
    """Health is open without a token, not without a certificate."""
    proc, _ = mtls_server
    with pytest.raises(grpc.RpcError) as caught:
        health(tls_channel(proc.address, pki))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_cli_client_over_mtls(mtls_server, pki):
    proc, account = mtls_server
    env = {"BLOCKSTORE_ADDRESS": proc.address, "BLOCKSTORE_TOKEN": account["token"]}
    tls = ["--ca", str(pki.path("ca.pem")), "--cert", str(pki.path("client.pem")),
           "--key", str(pki.path("client.key"))]
    out = blockstore_cmd("volume", "create", "--size", "1M", *tls, "--json", check=False,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    out = blockstore_cmd("volume", "list", "--ca", str(pki.path("ca.pem")), "--timeout", "3",
                         check=False, env=env, timeout=60)
    assert out.returncode != 0 and "UNAVAILABLE" in out.stderr, \
        "the CLI without a client certificate is refused by an mTLS server"


# --- every server command -------------------------------------------------------------------
@pytest.mark.parametrize("command", ["control-plane", "data-plane"])
def test_split_processes_serve_mutual_tls(tmp_path, pki, command):
    db, chunks = default_urls(tmp_path)
    blockstore_cmd("account", "create", "probe", "--db", db)
    args = [command, "--db", db, "--listen", "127.0.0.1:0", *tls_flags(pki, mutual=True)]
    if command == "data-plane":
        args += ["--chunks", chunks]
    proc = ServerProcess(args).start()
    try:
        with tls_channel(proc.address, pki, cert="client.pem", key="client.key") as channel:
            assert health(channel) == SERVING
        with pytest.raises(grpc.RpcError) as caught:
            health(tls_channel(proc.address, pki))
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        proc.stop()
