"""`store`: an open ManifestStore on a fresh database, once per backend."""

from __future__ import annotations

import pytest

from manifest import open_manifest
from tests.backends import BACKENDS, db_url


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    cluster = request.getfixturevalue("pg_cluster") if request.param == "postgresql" else None
    return db_url(request.param, tmp_path, cluster)


@pytest.fixture
async def store(store_url):
    opened = await open_manifest(store_url)
    yield opened
    await opened.close()
