"""GC compaction in bounded write transactions, EXISTS-style token checks, and a
manifest file that shrinks after deletes and GC (services/gc.py)."""

from __future__ import annotations

import random

import pytest

from chunkstore import open_chunk_store
from manifest.visibility import READERS
from services.gc import GcConfig, collect_garbage
from tests.gc.manifest_builder import delete_volume, open_store, tok, volume, write
from tests.scale.test_rewritten_queries import random_lineage

# The compaction statement GC ran before it was batched: one DELETE over the table.
WHOLE_TABLE = (
    READERS + ","
    " ranked AS (SELECT vid, chunk_index, version, LEAD(version) OVER ("
    "    PARTITION BY vid, chunk_index ORDER BY version) AS next_version FROM blocks)"
    " DELETE FROM blocks WHERE (vid, chunk_index, version) IN ("
    "  SELECT vid, chunk_index, version FROM ranked k WHERE NOT EXISTS ("
    "    SELECT 1 FROM readers r WHERE r.vid = k.vid AND r.version >= k.version"
    "      AND (k.next_version IS NULL OR r.version < k.next_version)))")


async def all_rows(store) -> list[tuple]:
    async with store.read() as tx:
        return [tuple(r) for r in await tx._all(
            "SELECT vid, chunk_index, version, token FROM blocks ORDER BY 1, 2, 3")]


@pytest.mark.parametrize("seed", range(4))
async def test_batched_compaction_keeps_exactly_what_the_whole_table_statement_keeps(
        tmp_path, seed):
    stores = [await open_store(tmp_path / "batched"), await open_store(tmp_path / "whole")]
    try:
        for s in stores:
            await random_lineage(s, random.Random(seed))
        assert await all_rows(stores[0]) == await all_rows(stores[1])
        batched, whole = stores
        async with batched.read() as tx:
            vids = await tx.block_vids()
        for vid in vids:
            first = 0
            while first is not None:
                async with batched.write() as tx:
                    _, first = await tx.compact_block_range(vid, first, 3)
        async with whole.write() as tx:
            await tx.conn.execute(WHOLE_TABLE)
        assert await all_rows(batched) == await all_rows(whole)
    finally:
        for s in stores:
            await s.close()


async def test_one_compaction_transaction_deletes_about_its_limit(tmp_path):
    store = await open_store(tmp_path)
    try:
        vol = await volume(store)
        await write(store, vol, {i: tok(1) for i in range(16)})
        await delete_volume(store, vol)
        async with store.write() as tx:
            removed, first = await tx.compact_block_range(vol.vid, 0, 5)
        assert (removed, first) == (5, 5), "5 one-row chunks, then resume at chunk 5"
    finally:
        await store.close()


async def test_token_check_names_exactly_the_referenced_tokens(tmp_path):
    store = await open_store(tmp_path)
    try:
        vol = await volume(store)
        await write(store, vol, {i: tok(1) for i in range(16)} | {3: tok(2)})
        async with store.read() as tx:
            found = await tx.referenced_tokens([tok(1), tok(2), tok(3), tok(1)])
        assert found == {tok(1), tok(2)}
    finally:
        await store.close()


async def page_count(store) -> int:
    async with store.read() as tx:
        return (await tx._one("PRAGMA page_count"))[0]


async def test_manifest_file_shrinks_after_deletes_and_gc(tmp_path):
    store = await open_store(tmp_path)
    chunks = open_chunk_store(f"file://{tmp_path / 'chunks'}", fsync=False)
    try:
        vol = await volume(store)
        async with store.write() as tx:
            await tx.upsert_blocks(vol.vid, 1, [(i, tok(i % 200)) for i in range(20_000)])
        grown = await page_count(store)
        await delete_volume(store, vol)
        report = await collect_garbage(store, chunks, GcConfig(grace_s=0, compact_rows=4000))
        assert report.rows_compacted == 20_000
        assert await page_count(store) < grown // 4, \
            f"manifest still {await page_count(store)} pages after GC (was {grown})"
    finally:
        await chunks.close()
        await store.close()
