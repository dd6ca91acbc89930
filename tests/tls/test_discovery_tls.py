"""Discovery under mutual TLS: the channels a client opens to the data planes it was told
about carry the same CA, certificate and key as the one to the address it was given."""

from __future__ import annotations

import pytest

from clients.aio import AsyncClient
from clients.retry import RetryPolicy
from tests.discovery.cluster import start_cluster
from tests.serverproc import create_account
from tests.tls.certs import have_openssl
from tests.tls.test_tls import tls_flags

pytestmark = pytest.mark.skipif(not have_openssl(), reason="needs the openssl CLI")


async def test_every_discovered_data_plane_is_dialled_with_the_clients_tls(tmp_path, pki):
    cluster = start_cluster(tmp_path, 2, common=tuple(tls_flags(pki, mutual=True)))
    try:
        token = create_account("tls-discovery", db=cluster.db)["token"]
        async with AsyncClient(cluster.control.address, token, ca_cert=pki.path("ca.pem"),
                               client_cert=pki.path("client.pem"),
                               client_key=pki.path("client.key"),
                               retry=RetryPolicy(max_attempts=1)) as client:
            for _ in range(4):                # one call at a time: both planes in turn
                assert await client.find_missing_chunks([bytes(32)]) == [bytes(32)]
            assert sorted(client.planes.live()) == sorted(p.address for p in cluster.planes)
            assert client.planes.used() == set(client.planes.live()), \
                "calls went to both data planes, over mutual TLS"
    finally:
        cluster.stop()
