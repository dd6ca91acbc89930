"""The S3 backend's writers against GC's conditional delete, each race forced at its
worst moment (two store objects on one bucket: a data plane and a GC in other processes).

A new chunk costs one PUT: an overwrite is announced in a write intent shared by the
puts in flight together, a fresh create-only PUT needs no trace at all. These tests pin
that GC still never removes what a writer just stored.
"""

from __future__ import annotations

import asyncio
import os
import time

import obstore
import pytest

from chunkstore.s3 import S3ChunkStore
from chunkstore.s3_config import parse_s3_url
from chunkstore.s3_intents import LAG_S, RELIST_S, IntentLog, intent_key
from tests.chunkstore.conftest import S3Damage, make_chunk


@pytest.fixture
def bucket_url(seaweedfs, request):
    return seaweedfs.url("conformance", f"w-{request.node.name[:40]}-{os.getpid()}")


def _store(weed, url, cls=S3ChunkStore) -> S3ChunkStore:
    return cls(parse_s3_url(url, weed.env()))


async def _put(store, chunk, **kw) -> bool:
    token, compression, payload, plain = chunk
    return await store.put(token, payload, compression, len(plain), **kw)


async def _intent_keys(store) -> list[str]:
    return [m["path"] async for page in obstore.list(store.s3, prefix=store.intents._prefix)
            for m in page]


async def test_an_overwrite_landing_between_gc_read_and_delete_survives(seaweedfs, bucket_url):
    writer = _store(seaweedfs, bucket_url)
    chunk = make_chunk(40)
    await _put(writer, chunk)
    S3Damage(writer).age(chunk[0], 3600)

    class GcStore(S3ChunkStore):
        async def read_raw(self, token):
            raw = await super().read_raw(token)
            # The data plane's overwrite lands after GC read the old copy, before its delete.
            assert await _put(writer, chunk, overwrite=True) is True
            return raw

    gc = _store(seaweedfs, bucket_url, GcStore)
    assert await gc.delete(chunk[0], older_than=time.time() - 60) is False
    assert (await writer.get(chunk[0])).plain == chunk[3]


async def test_a_dedup_hit_whose_chunk_gc_took_before_its_mark_writes_it_again(
        seaweedfs, bucket_url):
    gc = _store(seaweedfs, bucket_url)
    chunk = make_chunk(41)
    await _put(gc, chunk)
    S3Damage(gc).age(chunk[0], 3600)
    swept = []

    class Writer(S3ChunkStore):
        async def mark_seen(self, token):
            if not swept:     # the create answered 412; GC deletes before the mark lands
                swept.append(await gc.delete(token, older_than=time.time() - 60))
            await super().mark_seen(token)

    writer = _store(seaweedfs, bucket_url, Writer)
    assert await _put(writer, chunk) is True, "the chunk was gone: written again"
    assert swept == [True]
    assert (await gc.get(chunk[0])).plain == chunk[3]


async def test_concurrent_overwrites_share_write_intents_that_gc_prunes(seaweedfs, bucket_url):
    store = _store(seaweedfs, bucket_url)
    chunks = [make_chunk(50 + i) for i in range(20)]
    before = time.time()
    assert await asyncio.gather(*(_put(store, c, overwrite=True) for c in chunks)) == [True] * 20
    keys = await _intent_keys(store)
    assert 1 <= len(keys) <= 2, f"20 puts in flight together wrote {len(keys)} intents"
    assert await store.intents.tokens_since(before - 1) == {c[0] for c in chunks}
    assert await store.intents.tokens_since(time.time() + 1) == set()

    removed, size = await store.sweep_temp_files(time.time() + 1)
    assert (removed, size) == (len(keys), 20 * 32)
    assert await _intent_keys(store) == []
    assert {t async for t in store.iter_tokens()} == {c[0] for c in chunks}


def _log(store, clock) -> IntentLog:
    return IntentLog(store.s3, store.config.key("intents") + "/", clock)


async def test_an_intent_slower_than_the_lag_bound_is_written_again(seaweedfs, bucket_url):
    store = _store(seaweedfs, bucket_url)
    times = iter([1000.0, 1000.0 + LAG_S + 1, 1040.0, 1040.5])
    await _log(store, lambda: next(times)).announce(b"a" * 32)
    keys = await _intent_keys(store)
    assert [k.rsplit("/", 1)[1][:20] for k in keys] == ["%020d" % (1000 * 10**9),
                                                        "%020d" % (1040 * 10**9)]


async def test_gc_relists_only_a_window_before_its_last_listing(seaweedfs, bucket_url):
    """Intents it listed before come from its cache; one older than RELIST_S before that
    listing cannot appear later (the writer would have written it again)."""
    store = _store(seaweedfs, bucket_url)
    now = [1000.0]
    log = _log(store, lambda: now[0])
    await log.announce(b"a" * 32)
    assert await log.tokens_since(0) == {b"a" * 32}

    prefix = store.config.key("intents") + "/"
    for seconds, token in ((1000 - RELIST_S - 1, b"late" * 8),
                           (1000 - RELIST_S + 1, b"near" * 8)):
        await obstore.put_async(store.s3, intent_key(prefix, seconds, "x"), token)
    now[0] = 1010.0
    await log.announce(b"c" * 32)
    assert await log.tokens_since(0) == {b"a" * 32, b"near" * 8, b"c" * 32}
    assert await _log(store, lambda: now[0]).tokens_since(0) == \
        {b"a" * 32, b"late" * 8, b"near" * 8, b"c" * 32}, "a first listing reads them all"
