"""The rewritten block queries keep their meaning: changed blocks across clones and
deleted volumes, zero runs of downloads, and paging, against an independent oracle.

Random lineages (writes of data and zeros, snapshots, clones of clones, deleted
volumes and snapshots) are built directly on a real manifest, SQLite and PostgreSQL; every answer is
compared with tests/scale/oracle.py, which reads the raw rows. Candidate and row pages
are shrunk to 2 so that every page boundary is crossed.
"""

from __future__ import annotations

import random

import pytest

from blockstore.errors import InvalidLineage
from data_plane import download, listing
from data_plane.views import snapshot_view, volume_view
from tests.gc.manifest_builder import ACCOUNT, delete_volume, snapshot, tok, volume, write
from tests.scale import oracle
from tests.scale.counting import download_operation

CHUNK = 1 << 16
SEEDS = range(3)


@pytest.fixture
def store(backend_store):
    return backend_store


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    monkeypatch.setattr(listing, "CANDIDATE_PAGE", 2)
    monkeypatch.setattr(download, "ROWS_PER_QUERY", 2)


async def random_lineage(store, rng: random.Random):
    """Volumes, clones of snapshots (of clones), writes, deletes; returns (snapshots,
    live volumes)."""
    live = [await volume(store)]
    snaps = []
    for _ in range(40):
        vol, op = rng.choice(live), rng.random()
        if op < 0.55:
            rows = {rng.randrange(16): rng.choice([tok(1), tok(2), tok(3), None])
                    for _ in range(rng.randint(1, 4))}
            await write(store, vol, rows)
        elif op < 0.8:
            snaps.append(await snapshot(store, vol))
        elif op < 0.92 and snaps:
            live.append(await volume(store, source=rng.choice(snaps)))
        elif len(live) > 1:
            live.remove(vol)
            await delete_volume(store, vol)      # its snapshots live on and stay readable
    return snaps, live


async def changes_paged(store, base: str, target: str, page_size: int) -> list[tuple]:
    out, token = [], ""
    while True:
        page, token = await listing.list_changes(store, ACCOUNT, base, target, page_size,
                                                 token)
        out += [(c.offset, c.base, c.target) for c in page]
        if not token:
            return out


@pytest.mark.parametrize("seed", SEEDS)
async def test_changed_blocks_match_the_rows_for_every_pair_of_snapshots(store, seed):
    rng = random.Random(seed)
    snaps, _ = await random_lineage(store, rng)
    views = {}
    async with store.read() as tx:
        for s in snaps:
            views[s.snapshot_id] = await snapshot_view(tx, ACCOUNT, s.snapshot_id)
    seen = {sid: await oracle.visible(store, v) for sid, v in views.items()}
    pairs = 0
    for base in ["", *views]:
        for target in views:
            if base and not {lv.vid for lv in views[base].levels} & \
                    {lv.vid for lv in views[target].levels}:
                with pytest.raises(InvalidLineage):
                    await changes_paged(store, base, target, 1)
                continue
            expected = oracle.changes(seen[base] if base else {}, seen[target], CHUNK)
            page_size = rng.randint(1, 4)
            assert await changes_paged(store, base, target, page_size) == expected, \
                f"changes {base or '(none)'} -> {target} in pages of {page_size}"
            pairs += 1
    assert pairs > len(views), "the lineage had snapshots related across clones"


@pytest.mark.parametrize("seed", SEEDS)
async def test_download_pieces_merge_zero_runs_exactly_as_the_rows_say(store, seed):
    rng = random.Random(100 + seed)
    snaps, live = await random_lineage(store, rng)
    async with store.read() as tx:
        views = [await snapshot_view(tx, ACCOUNT, s.snapshot_id) for s in snaps]
        views += [await volume_view(tx, ACCOUNT, v.volume_id) for v in live]
    async with download_operation(store) as op:
        for view in views:
            seen = await oracle.visible(store, view)
            for _ in range(5):
                offset = rng.randrange(view.size_bytes)
                length = rng.randint(1, view.size_bytes - offset)
                got = [(p.offset, p.length, p.token) async for p in
                       download.pieces(store, view, offset, length, op)]
                assert got == oracle.pieces(seen, CHUNK, view.size_bytes, offset, length), \
                    f"{view.name} bytes {offset}+{length}"
