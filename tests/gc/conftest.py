"""`stores`: a fresh manifest (real SQLite file) and chunk directory for the in-process GC
and verify tests; fsync off, since no test here crashes the machine."""

from __future__ import annotations

import pytest

from chunkstore import LocalChunkStore
from tests.gc.manifest_builder import open_store


@pytest.fixture
async def stores(tmp_path):
    store = await open_store(tmp_path)
    chunks = LocalChunkStore(tmp_path / "chunks", fsync=False)
    yield store, chunks
    await store.close()
