"""`backend_store`: a fresh manifest with the builder's account, once per backend
(`manifest_url`, tests/conftest.py), for the suites whose meaning must hold on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest

from manifest import Account, open_manifest
from tests.gc.manifest_builder import ACCOUNT


@pytest.fixture
async def backend_store(manifest_url):
    store = await open_manifest(manifest_url)
    async with store.write() as tx:
        await tx.insert_account(Account(ACCOUNT, "test", 0), b"h" * 32)
    yield store
    await store.close()
