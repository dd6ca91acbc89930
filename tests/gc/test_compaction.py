"""Compaction keeps exactly the block rows some reader can see (services/gc.py).

Built directly on a SQLite manifest so each layout is exact; the server-level test in
test_gc_frees_space.py checks the same rule through the real API.
"""

from __future__ import annotations

import pytest

from manifest import SnapshotState
from tests.gc.manifest_builder import (compact, delete_snapshot, delete_volume, open_store,
                                       rows, snapshot, tok, volume, write)


@pytest.fixture
async def store(tmp_path):
    s = await open_store(tmp_path)
    yield s
    await s.close()


async def test_overwritten_chunk_loses_only_the_row_of_a_deleted_middle_snapshot(store):
    vol = await volume(store)
    snaps = []
    for n in (1, 2, 3):
        await write(store, vol, {0: tok(n), 1: tok(10 + n) if n == 1 else None})
        snaps.append(await snapshot(store, vol))
    await write(store, vol, {0: tok(4)})                        # open version 4
    await delete_snapshot(store, snaps[1])                      # reader at version 2 gone
    assert await compact(store) == 2                            # (0, v2) and (1, v2)
    assert await rows(store, vol) == [(0, 1, tok(1)), (0, 3, tok(3)), (0, 4, tok(4)),
                                      (1, 1, tok(11)), (1, 3, None)]
    assert await compact(store) == 0, "compaction is idempotent"


async def test_sparse_versions_stay_visible_to_readers_between_them(store):
    vol = await volume(store)
    await write(store, vol, {0: tok(1)})
    s1 = await snapshot(store, vol)
    await snapshot(store, vol)                                  # v2 reads row v1
    s3 = await snapshot(store, vol)
    await write(store, vol, {0: tok(4)})
    await delete_snapshot(store, s1)
    await delete_snapshot(store, s3)
    assert await compact(store) == 0, "row v1 is still what snapshot v2 sees"


async def test_deleted_volume_without_snapshots_loses_every_row(store):
    vol = await volume(store)
    await write(store, vol, {0: tok(1), 5: tok(2)})
    s = await snapshot(store, vol)
    await write(store, vol, {0: tok(3)})
    await delete_snapshot(store, s)
    await delete_volume(store, vol)
    assert await compact(store) == 3
    assert await rows(store, vol) == []


async def test_deleted_volume_keeps_what_its_surviving_snapshot_sees(store):
    vol = await volume(store)
    await write(store, vol, {0: tok(1), 1: tok(2)})
    first = await snapshot(store, vol)
    await write(store, vol, {1: tok(3)})
    await snapshot(store, vol)                                  # sees (0,v1), (1,v2)
    await write(store, vol, {0: tok(5)})                        # open version 3
    await delete_volume(store, vol)
    await delete_snapshot(store, first)
    assert await compact(store) == 2                            # (1,v1) and (0,v3)
    assert await rows(store, vol) == [(0, 1, tok(1)), (1, 2, tok(3))]


async def test_pending_snapshot_is_a_reader(store):
    vol = await volume(store)
    await write(store, vol, {0: tok(1)})
    await snapshot(store, vol, SnapshotState.PENDING)
    await write(store, vol, {0: tok(2)})
    await delete_volume(store, vol)
    assert await compact(store) == 1
    assert await rows(store, vol) == [(0, 1, tok(1))]


async def test_clones_keep_their_source_rows_even_through_a_deleted_source(store):
    """A chain base -> snapshot -> clone -> snapshot -> clone2, with the base volume and the
    first source snapshot deleted: the rows the clones read through must survive."""
    base = await volume(store)
    await write(store, base, {0: tok(1), 1: tok(2)})
    src = await snapshot(store, base)
    await write(store, base, {0: tok(3)})                       # base's own later write
    clone = await volume(store, src)
    await write(store, clone, {1: tok(4)})
    src2 = await snapshot(store, clone)
    clone2 = await volume(store, src2)
    await delete_volume(store, base)
    await delete_volume(store, clone)
    await delete_snapshot(store, src)        # the control plane forbids only live clones
    assert await compact(store) == 1                            # only base's (0, v2)
    assert await rows(store, base) == [(0, 1, tok(1)), (1, 1, tok(2))]
    assert await rows(store, clone) == [(1, 1, tok(4))]
    await delete_volume(store, clone2)
    await delete_snapshot(store, src2)
    assert await compact(store) == 3
    for v in (base, clone, clone2):
        assert await rows(store, v) == []
