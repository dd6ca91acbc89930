"""The CLI over TLS (--ca) against a real `blockstore serve --tls-cert/--tls-key`.

Certificates are made with the openssl CLI for 127.0.0.1; the test is skipped without it.
"""

import json
import shutil
import subprocess

import pytest

from tests.serverproc import blockstore_cmd, create_account, serve

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _openssl(*args: str, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A throwaway CA and a server certificate for IP 127.0.0.1 signed by it."""
    d = tmp_path_factory.mktemp("tls")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
             "/CN=test-ca", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", "server.key", "-out", "server.csr", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem", cwd=d)
    return d


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory, certs):
    data = tmp_path_factory.mktemp("tlsdata")
    proc = serve(data, "--tls-cert", str(certs / "server.pem"),
                 "--tls-key", str(certs / "server.key"))
    yield proc, create_account("tls-acct", data_dir=data)
    proc.stop()


def test_cli_talks_tls_with_the_ca(tls_server, certs):
    proc, account = tls_server
    env = {"BLOCKSTORE_ADDRESS": proc.address, "BLOCKSTORE_TOKEN": account["token"]}
    out = blockstore_cmd("volume", "create", "--ca", str(certs / "ca.pem"), "--json",
                         check=False, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["volume"]["volume_id"].startswith("vol-")


def test_plaintext_client_cannot_talk_to_a_tls_server(tls_server):
    proc, account = tls_server
    env = {"BLOCKSTORE_ADDRESS": proc.address, "BLOCKSTORE_TOKEN": account["token"]}
    out = blockstore_cmd("volume", "list", "--timeout", "2", check=False, env=env, timeout=60)
    assert out.returncode == 6 and out.stderr.startswith("error: UNAVAILABLE")
