"""What only the local backend has: its files, crash leftovers, and several processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from pathlib import Path

import pytest

from blockstore.urls import file_url
from blockstore.errors import ChunkCorrupt
from chunkstore import ChunkPut, LocalChunkStore, MemoryChunkStore, open_chunk_store
from chunkstore.fileformat import HEADER_SIZE, MAGIC
from tests.chunkstore.conftest import make_chunk


async def put(store, chunk) -> bool:
    token, compression, payload, plain = chunk
    return await store.put(token, payload, compression, len(plain))


async def test_layout_is_two_level_digest_prefix_with_header(tmp_path):
    store = LocalChunkStore(tmp_path)
    chunk = make_chunk(1)
    await put(store, chunk)
    name = chunk[0].hex()
    path = tmp_path / "chunks" / name[:2] / name[2:4] / name
    data = path.read_bytes()
    assert data[:4] == MAGIC and data[HEADER_SIZE:] == chunk[2]


async def test_crash_leftovers_are_never_listed_or_served(tmp_path):
    store = LocalChunkStore(tmp_path)
    chunk = make_chunk(2)
    path = store.path_of(chunk[0])
    path.parent.mkdir(parents=True)
    (path.parent / f".tmp-{chunk[0].hex()}-1-abc").write_bytes(b"half a chunk")
    (path.parent / f".trash-{chunk[0].hex()}-1-abc").write_bytes(b"old")
    assert [t async for t in store.iter_tokens()] == []
    assert await store.contains_many([chunk[0]]) == set()
    assert await put(store, chunk) is True
    assert [t async for t in store.iter_tokens()] == [chunk[0]]


async def test_put_leaves_no_temp_file(tmp_path):
    store = LocalChunkStore(tmp_path)
    chunk = make_chunk(3)
    await put(store, chunk)
    await put(store, chunk)
    assert os.listdir(store.path_of(chunk[0]).parent) == [chunk[0].hex()]


@pytest.mark.parametrize("damage", [b"", b"BSC", b"XXXX" + b"\0" * 40])
async def test_broken_header_is_corrupt_and_healed_by_put(tmp_path, damage):
    """A file that can not be the chunk (torn header, wrong size) is replaced on put."""
    store = LocalChunkStore(tmp_path)
    chunk = make_chunk(4)
    await put(store, chunk)
    store.path_of(chunk[0]).write_bytes(damage)
    with pytest.raises(ChunkCorrupt, match=chunk[0].hex()):
        await store.get(chunk[0])
    with pytest.raises(ChunkCorrupt):
        await store.stat(chunk[0])
    assert await put(store, chunk) is True
    assert (await store.get(chunk[0])).plain == chunk[3]


async def test_quarantine_keeps_the_bad_file(tmp_path):
    store = LocalChunkStore(tmp_path)
    chunk = make_chunk(5)
    await put(store, chunk)
    assert await store.quarantine(chunk[0])
    kept = list((tmp_path / "quarantine").iterdir())
    assert len(kept) == 1 and kept[0].name.startswith(chunk[0].hex() + ".")


def _put_in_process(root: str, seed: int) -> bool:
    return asyncio.run(put(LocalChunkStore(Path(root)), make_chunk(seed, size=1 << 20)))


def test_concurrent_puts_from_several_processes_create_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(_put_in_process, [(str(tmp_path), 9)] * 8)
    assert results.count(True) == 1
    chunk = make_chunk(9, size=1 << 20)
    assert asyncio.run(LocalChunkStore(tmp_path).get(chunk[0])).plain == chunk[3]


def test_open_chunk_store_urls(tmp_path):
    store = open_chunk_store(file_url(tmp_path / "c"), fsync=False)
    assert isinstance(store, LocalChunkStore) and store.root == tmp_path / "c"
    assert store.fsync is False
    assert isinstance(open_chunk_store("memory://"), MemoryChunkStore)
    with pytest.raises(ValueError, match="s3"):
        open_chunk_store("s3://bucket/prefix")
    with pytest.raises(ValueError):
        open_chunk_store("file://host/path")
    with pytest.raises(ValueError):
        open_chunk_store("/plain/path")


async def test_identity_survives_reopening_and_leaves_no_temp_file(tmp_path):
    await LocalChunkStore(tmp_path).set_identity("store-1234")
    assert await LocalChunkStore(tmp_path).get_identity() == "store-1234"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunks", "identity"]


async def test_an_unreadable_identity_file_is_an_error_not_unbound(tmp_path):
    store = LocalChunkStore(tmp_path)
    (tmp_path / "identity").write_bytes(b"")
    with pytest.raises(ValueError, match="identity"):
        await store.get_identity()


async def test_put_many_leaves_no_temp_file_even_when_one_chunk_fails(tmp_path):
    """A batch is written in phases (local_batch.py); a chunk that fails to publish
    (here its name is taken by a non-empty directory) fails the batch, and no temp file
    of any chunk is left holding space."""
    store = LocalChunkStore(tmp_path)
    first, bad, last = make_chunk(50), make_chunk(51), make_chunk(52)
    blocker = store.path_of(bad[0])
    (blocker / "x").mkdir(parents=True)
    puts = [ChunkPut(c[0], c[2], c[1], len(c[3]), overwrite=True) for c in (first, bad, last)]
    with pytest.raises(OSError):
        await store.put_many(puts)
    leftovers = [p for p in (tmp_path / "chunks").rglob(".tmp-*")]
    assert leftovers == [], "a failed batch removes every temp file it wrote"
    assert (await store.get(first[0])).plain == first[3], "chunks published before stay whole"
    good = [p for p in puts if p.token != bad[0]]
    assert await store.put_many(good) == [True, True]
    assert sorted(os.listdir(store.path_of(last[0]).parent)) == [last[0].hex()]
