"""A PostgreSQL manifest that refuses a connection is SERVER_OVERLOADED, retried later.

PostgreSQL answers "too many connections" (SQLSTATE 53300) when a role, a database or
the cluster is at its limit, "the database system is shutting down" or "in recovery"
(57P0x) during a restart or failover, and may end a transaction as a deadlock or
serialization victim (40xxx). All of them clear by waiting; before the fix they reached
clients as INTERNAL INTERNAL_ERROR, which no client retries. Real cluster: the server
connects as a role whose connection limit is then set to what it already holds, and
concurrent calls need more.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import grpc
import pytest

from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc as cp_grpc
from tests.backends import fresh_database
from tests.conftest import metadata
from tests.rpcerrors import error_info
from tests.serverproc import create_account, serve


async def admin(url: str, *statements: str) -> list:
    conn = await asyncpg.connect(url)
    try:
        return [await conn.fetch(s) for s in statements]
    finally:
        await conn.close()


@pytest.fixture
def limited_server(pg_cluster, tmp_path):
    """A server on a fresh database, connected as role `role` (not a superuser, whose
    connections no limit counts). Yields (server, token, superuser url, role)."""
    url = fresh_database(pg_cluster)
    parts = urlsplit(url)
    role = f"lim_{parts.path.strip('/')}"
    asyncio.run(admin(url, f"CREATE ROLE {role} LOGIN",
                      f"GRANT ALL ON SCHEMA public TO {role}",
                      f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}",
                      f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    limited = urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))
    proc = serve(tmp_path / "data", "--db", limited)
    token = create_account("pg-limited", db=url)["token"]
    yield proc, token, url, role
    proc.stop()


async def test_a_connection_refused_by_postgresql_is_server_overloaded(limited_server):
    server, token, url, role = limited_server
    async with grpc.aio.insecure_channel(server.address) as channel:
        cp = cp_grpc.ControlPlaneServiceStub(channel)
        md = metadata(token)
        vid = (await cp.CreateVolume(cpb.CreateVolumeRequest(), metadata=md)).volume.volume_id
        [[row]] = await admin(url, "SELECT count(*) AS n FROM pg_stat_activity "
                                   f"WHERE usename = '{role}'")
        held = row["n"]
        await admin(url, f"ALTER ROLE {role} CONNECTION LIMIT {held}")
        failures = []
        for _ in range(20):
            calls = [cp.GetVolume(cpb.GetVolumeRequest(volume_id=vid), metadata=md,
                                  timeout=60) for _ in range(32)]
            results = await asyncio.gather(*calls, return_exceptions=True)
            failures += [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
            if failures:
                break
        print(f"\n{len(failures)} calls refused with the role limited to the {held} "
              "connections the server held")
        assert failures, "no call needed a connection beyond the limit"
        got = {(f.code().name, error_info(f).reason) for f in failures}
        assert got == {("RESOURCE_EXHAUSTED", "SERVER_OVERLOADED")}, \
            [f.details() for f in failures[:3]]
        await admin(url, f"ALTER ROLE {role} CONNECTION LIMIT -1")
        await cp.GetVolume(cpb.GetVolumeRequest(volume_id=vid), metadata=md, timeout=60)
