"""`ReservingChunkStore`: new chunk data is refused while the reserve check fails;
reads, deletes and everything else pass straight through to the store it wraps."""

from __future__ import annotations

import pytest

from blockstore.errors import StorageFull
from chunkstore import ChunkPut, MemoryChunkStore
from chunkstore.reserve import ReservingChunkStore
from tests.chunkstore.conftest import make_chunk


async def test_put_is_refused_under_the_reserve_and_reads_and_deletes_still_work():
    inner, full = MemoryChunkStore(), {"now": False}

    def check(what: str) -> None:
        if full["now"]:
            raise StorageFull(f"{what} refused")

    store = ReservingChunkStore(inner, check)
    token, compression, payload, plain = make_chunk(1)
    assert await store.put(token, payload, compression, len(plain))
    full["now"] = True
    other = make_chunk(2)
    with pytest.raises(StorageFull) as caught:
        await store.put(other[0], other[2], other[1], len(other[3]))
    assert other[0].hex() in caught.value.message, "the refusal names the chunk"
    assert await inner.stat(other[0]) is None, "nothing of the refused chunk was stored"
    assert (await store.get(token)).plain == plain
    assert await store.delete(token)
    full["now"] = False
    assert await store.put(other[0], other[2], other[1], len(other[3]))


async def test_a_batch_is_refused_whole_and_named_by_its_first_chunk():
    inner = MemoryChunkStore()

    def check(what: str) -> None:
        raise StorageFull(f"{what} refused")

    store = ReservingChunkStore(inner, check)
    chunks = [make_chunk(i) for i in (5, 6, 7)]
    puts = [ChunkPut(c[0], c[2], c[1], len(c[3])) for c in chunks]
    with pytest.raises(StorageFull) as caught:
        await store.put_many(puts)
    assert chunks[0][0].hex() in caught.value.message and "2 more" in caught.value.message
    assert [await inner.stat(c[0]) for c in chunks] == [None] * 3, "nothing stored"
