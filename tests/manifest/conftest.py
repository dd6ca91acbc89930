"""`store`: an open ManifestStore on a fresh database, once per backend (`manifest_url`,
tests/conftest.py)."""

from __future__ import annotations

import pytest

from manifest import open_manifest


@pytest.fixture
async def store(manifest_url):
    opened = await open_manifest(manifest_url)
    yield opened
    await opened.close()
