"""The ChunkStore contract, run on every backend (see conftest.store)."""

from __future__ import annotations

import asyncio
import time

import pytest

from blockstore.errors import ChunkCorrupt, ChunkMissing
from chunkstore import ChunkPut, ChunkStore, Compression
from tests.chunkstore.conftest import make_chunk


async def put(store, chunk) -> bool:
    token, compression, payload, plain = chunk
    return await store.put(token, payload, compression, len(plain))


def test_backend_satisfies_protocol(store):
    assert isinstance(store, ChunkStore)


@pytest.mark.parametrize("compressible", [True, False])
async def test_round_trip_returns_verified_bytes(store, compressible):
    chunk = make_chunk(1, compressible=compressible)
    token, compression, payload, plain = chunk
    assert compression is (Compression.ZSTD if compressible else Compression.NONE)
    await put(store, chunk)
    got = await store.get(token)
    assert (got.token, got.compression, got.plain_length) == (token, compression, len(plain))
    assert got.payload == payload and got.plain == plain
    info = await store.stat(token)
    assert (info.compression, info.plain_length, info.stored_length) == (
        compression, len(plain), len(payload))


async def test_empty_chunk_round_trips(store):
    chunk = make_chunk(0, size=0)
    await put(store, chunk)
    assert (await store.get(chunk[0])).plain == b""


async def test_put_reports_new_then_existing(store):
    chunk = make_chunk(2)
    assert await put(store, chunk) is True
    assert await put(store, chunk) is False


async def test_duplicate_put_and_touch_refresh_last_seen(store, damage):
    """GC's grace period relies on a dedup hit counting as 'seen now'."""
    token = make_chunk(3)[0]
    await put(store, make_chunk(3))
    damage.age(token, 3600)
    before = time.time()
    assert await put(store, make_chunk(3)) is False
    assert (await store.stat(token)).mtime >= before - 1
    damage.age(token, 3600)
    assert await store.touch(token) is True
    assert (await store.stat(token)).mtime >= before - 1
    assert await store.touch(make_chunk(4)[0]) is False


async def test_missing_chunk_raises_chunk_missing(store):
    token = make_chunk(5)[0]
    with pytest.raises(ChunkMissing, match=token.hex()):
        await store.get(token)
    assert await store.stat(token) is None


@pytest.mark.parametrize("how", ["flip_byte", "truncate"])
@pytest.mark.parametrize("compressible", [True, False])
async def test_corrupted_chunk_is_never_returned(store, damage, how, compressible):
    chunk = make_chunk(6, compressible=compressible)
    await put(store, chunk)
    getattr(damage, how)(chunk[0])
    with pytest.raises(ChunkCorrupt, match=chunk[0].hex()) as info:
        await store.get(chunk[0])
    assert info.value.reason == "CHUNK_CORRUPT"


async def test_quarantine_then_put_heals(store, damage):
    chunk = make_chunk(7)
    await put(store, chunk)
    damage.flip_byte(chunk[0])
    assert await store.quarantine(chunk[0]) is True
    assert await store.contains_many([chunk[0]]) == set()
    assert await put(store, chunk) is True
    assert (await store.get(chunk[0])).plain == chunk[3]
    assert await store.quarantine(make_chunk(8)[0]) is False


async def test_contains_many_and_iter_tokens(store):
    chunks = [make_chunk(i) for i in range(10, 15)]
    for chunk in chunks[:3]:
        await put(store, chunk)
    stored = {c[0] for c in chunks[:3]}
    assert await store.contains_many([c[0] for c in chunks]) == stored
    assert {t async for t in store.iter_tokens()} == stored


async def test_delete(store):
    chunk = make_chunk(16)
    await put(store, chunk)
    assert await store.delete(chunk[0]) is True
    assert await store.delete(chunk[0]) is False
    with pytest.raises(ChunkMissing):
        await store.get(chunk[0])


async def test_conditional_delete_spares_recently_seen_chunks(store, damage):
    """GC sweep: a chunk refreshed after the cutoff must survive."""
    chunk = make_chunk(17)
    await put(store, chunk)
    cutoff = time.time() - 60
    assert await store.delete(chunk[0], older_than=cutoff) is False
    assert (await store.get(chunk[0])).plain == chunk[3]
    damage.age(chunk[0], 3600)
    assert await store.delete(chunk[0], older_than=cutoff) is True
    assert await store.stat(chunk[0]) is None


async def test_concurrent_puts_of_one_token_create_it_once(store):
    chunk = make_chunk(18, size=1 << 20)
    results = await asyncio.gather(*(put(store, chunk) for _ in range(20)))
    assert results.count(True) == 1
    assert (await store.get(chunk[0])).plain == chunk[3]
    assert [t async for t in store.iter_tokens()] == [chunk[0]]


async def test_put_rejects_malformed_arguments(store):
    token, _, _, plain = make_chunk(19)
    with pytest.raises(ValueError):
        await store.put(token[:31], plain, Compression.NONE, len(plain))
    with pytest.raises(ValueError):
        await store.put(token, plain, Compression.NONE, len(plain) + 1)


async def test_identity_is_unset_until_set_then_replaced_whole(store):
    """The binding to a manifest (services/identity.py) lives behind the Protocol."""
    assert await store.get_identity() is None, "a new store is bound to nothing"
    await store.set_identity("store-aaaa")
    assert await store.get_identity() == "store-aaaa"
    await store.set_identity("store-bbbb")
    assert await store.get_identity() == "store-bbbb", "set replaces the earlier identity"
    assert [t async for t in store.iter_tokens()] == [], "the identity is not a chunk"


async def test_overwrite_writes_afresh_whether_or_not_the_chunk_exists(store, damage):
    token, compression, payload, plain = make_chunk(20)
    for _ in range(2):
        assert await store.put(token, payload, compression, len(plain), overwrite=True) is True
        assert (await store.get(token)).plain == plain
    damage.flip_byte(token)
    assert await store.put(token, payload, compression, len(plain), overwrite=True) is True
    assert (await store.get(token)).plain == plain, "an overwrite replaces a rotten copy"
    assert [t async for t in store.iter_tokens()] == [token]


async def test_put_many_reports_each_in_order_and_stores_every_chunk(store):
    """`put_many` keeps `put`'s contract per chunk: True for new, False for present, True
    for an overwrite, and every chunk readable and verified afterwards."""
    old, new, again = make_chunk(40), make_chunk(41, compressible=False), make_chunk(42)
    await put(store, old)
    await put(store, again)
    puts = [ChunkPut(c[0], c[2], c[1], len(c[3]), overwrite=o)
            for c, o in ((old, False), (new, False), (again, True))]
    assert await store.put_many(puts) == [False, True, True]
    for token, _, payload, plain in (old, new, again):
        got = await store.get(token)
        assert got.plain == plain and got.payload == payload
    assert await store.put_many([]) == []
