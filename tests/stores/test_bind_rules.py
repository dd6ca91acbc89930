"""The rules of `bind_stores` that the console-script tests do not reach, on a real SQLite
manifest and the in-memory chunk store."""

from __future__ import annotations

import asyncio

import pytest

from blockstore.urls import sqlite_url
from chunkstore import MemoryChunkStore
from manifest import open_manifest
from services.identity import StoreRefused, bind_stores
from tests.chunkstore.conftest import make_chunk


@pytest.fixture
async def manifest(tmp_path):
    store = await open_manifest(sqlite_url(tmp_path / "manifest.db"))
    yield store
    await store.close()


async def put_one(chunks) -> None:
    token, compression, payload, plain = make_chunk(7)
    await chunks.put(token, payload, compression, len(plain))


async def record_one(manifest) -> None:
    async with manifest.write() as tx:
        await tx.record_chunks([(make_chunk(7)[0], 1, 1)], created_at=1)


async def test_concurrent_first_starts_agree_on_one_id(manifest):
    chunks = MemoryChunkStore()
    ids = await asyncio.gather(*(bind_stores(manifest, chunks) for _ in range(4)))
    assert len(set(ids)) == 1 and await chunks.get_identity() == ids[0]


async def test_a_new_data_plane_beside_a_bound_manifest_takes_its_id(manifest):
    first = await bind_stores(manifest, MemoryChunkStore())
    later = MemoryChunkStore()          # empty, unbound, and the manifest records no chunk
    assert await bind_stores(manifest, later) == first == await later.get_identity()


async def test_an_empty_unbound_chunk_store_is_refused_once_chunks_were_recorded(manifest):
    await bind_stores(manifest, MemoryChunkStore())
    await record_one(manifest)
    with pytest.raises(StoreRefused, match="wrong place"):
        await bind_stores(manifest, MemoryChunkStore())


async def test_a_store_from_before_identities_is_adopted(manifest):
    chunks = MemoryChunkStore()
    await put_one(chunks)
    await record_one(manifest)          # both hold data, neither has an id: made before 0006
    store_id = await bind_stores(manifest, chunks)
    assert await chunks.get_identity() == store_id
    assert await bind_stores(manifest, chunks) == store_id


async def test_unbound_chunks_beside_an_empty_manifest_need_init(manifest):
    chunks = MemoryChunkStore()
    await put_one(chunks)
    with pytest.raises(StoreRefused, match="--init"):
        await bind_stores(manifest, chunks)
    assert await chunks.get_identity() is None, "a refusal writes nothing"
    store_id = await bind_stores(manifest, chunks, init=True)
    assert await chunks.get_identity() == store_id


async def test_init_never_rebinds_a_manifest_that_holds_data(manifest):
    await bind_stores(manifest, MemoryChunkStore())
    await record_one(manifest)
    other = MemoryChunkStore()
    await other.set_identity("store-other")
    with pytest.raises(StoreRefused, match="store-other"):
        await bind_stores(manifest, other, init=True)
    assert await other.get_identity() == "store-other"
