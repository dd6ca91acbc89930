"""`backend_store`: a fresh manifest with the builder's account, once per backend
(tests/backends.py), for the suites whose meaning must hold on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from manifest import Account, open_manifest
from tests.backends import BACKENDS, db_url
from tests.gc.manifest_builder import ACCOUNT


@pytest.fixture(params=BACKENDS)
def backend_url(request, tmp_path):
    # A sync fixture: the session's cluster is started with asyncio.run.
    cluster = request.getfixturevalue("pg_cluster") if request.param == "postgresql" else None
    return db_url(request.param, tmp_path, cluster)


@pytest.fixture
async def backend_store(backend_url):
    store = await open_manifest(backend_url)
    async with store.write() as tx:
        await tx.insert_account(Account(ACCOUNT, "test", 0), b"h" * 32)
    yield store
    await store.close()
