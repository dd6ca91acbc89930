"""TLS fixtures: one PKI per session, servers started with --tls-* flags, sync channels."""

from __future__ import annotations

import grpc
import pytest

from tests.tls.certs import have_openssl, make_pki

pytestmark = pytest.mark.skipif(not have_openssl(), reason="needs the openssl CLI")


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    if not have_openssl():
        pytest.skip("needs the openssl CLI to make certificates")
    return make_pki(tmp_path_factory.mktemp("pki"))


def tls_channel(address: str, pki, *, ca: str | None = "ca.pem", cert: str | None = None,
                key: str | None = None) -> grpc.Channel:
    creds = grpc.ssl_channel_credentials(
        root_certificates=pki.read(ca) if ca else None,
        private_key=pki.read(key) if key else None,
        certificate_chain=pki.read(cert) if cert else None)
    return grpc.secure_channel(address, creds)
