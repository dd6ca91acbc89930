"""Every test of this suite that uses `server` runs once per manifest backend;
`local_stores` serves the in-process upload-session tests (tests/data_plane/sessions.py)."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from chunkstore import LocalChunkStore
from manifest.sqlite import SqliteManifest


@pytest.fixture(scope="module")
def server(backend_server):
    return backend_server


@pytest.fixture
async def local_stores(tmp_path):
    """A real SQLite manifest, a chunk directory and two worker threads."""
    store = await SqliteManifest.open(tmp_path / "manifest.db")
    executor = ThreadPoolExecutor(2)
    yield store, LocalChunkStore(tmp_path / "chunks", executor=executor), executor
    await store.close()
    executor.shutdown()
