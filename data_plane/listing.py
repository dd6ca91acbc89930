"""FindMissingChunks, ListBlocks and ListChangedBlocks.

ListChangedBlocks reads only change candidates (`change_sources`): between two
snapshots of one volume, the rows written between their versions (`blocks_by_version`),
so its cost follows the number of changes, not the size of the volume. Candidates are
read and compared in bounded pages, each in a short read transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from blockstore.errors import InvalidArgument, InvalidLineage
from blockstore.paging import encode_token, parse_page
from data_plane.views import View, rows_in, snapshot_view, visible_at
from manifest import ManifestStore, ManifestTx

TOKEN_BYTES = 32
DEFAULT_BLOCK_PAGE = 1000
MAX_BLOCK_PAGE = 10_000
# Change candidates examined per read transaction: bounds memory and the time a
# transaction stays open, whatever the page size or the volume.
CANDIDATE_PAGE = 1000


@dataclass(frozen=True)
class BlockEntry:
    offset: int
    token: bytes | None           # None: written zeros


@dataclass(frozen=True)
class Change:
    offset: int
    base: bytes | None | bool     # False: hole; None: zeros; bytes: token
    target: bytes | None | bool


async def find_missing(store: ManifestStore, account_id: str, tokens: list[bytes],
                       limit: int) -> list[bytes]:
    """Tokens (in request order, deduplicated) the caller's account does not hold."""
    if len(tokens) > limit:
        raise InvalidArgument(f"{len(tokens)} tokens in one FindMissingChunks; at most {limit}")
    for token in tokens:
        if len(token) != TOKEN_BYTES:
            raise InvalidArgument(f"token {token.hex()[:70]} is {len(token)} bytes; chunk "
                                  "tokens are 32-byte BLAKE3 digests")
    async with store.read() as tx:
        known = await tx.tokens_known(account_id, tokens)
    return list(dict.fromkeys(t for t in tokens if t not in known))


def _page(view: View, start_offset: int, page_size: int, page_token: str,
          scope: str) -> tuple[int, int]:
    if start_offset < 0:
        raise InvalidArgument(f"start_offset {start_offset} is negative")
    first = -(-start_offset // view.chunk_size)
    page = parse_page(page_token, page_size, scope, first, DEFAULT_BLOCK_PAGE, MAX_BLOCK_PAGE)
    return int(page.after), page.size


async def list_blocks(store: ManifestStore, view: View, start_offset: int, page_size: int,
                      page_token: str) -> tuple[list[BlockEntry], str]:
    scope = f"blocks:{view.name}:{start_offset}"
    first, size = _page(view, start_offset, page_size, page_token, scope)
    async with store.read() as tx:
        rows = await rows_in(tx, view, first, view.chunk_count() - 1, size + 1)
    more = len(rows) > size
    rows = rows[:size]
    entries = [BlockEntry(r.chunk_index * view.chunk_size, r.token) for r in rows]
    return entries, encode_token(rows[-1].chunk_index + 1, scope) if more else ""


def _check_lineage(base: View, target: View) -> None:
    """Both snapshots must read through one volume somewhere in their clone chains."""
    if not {lv.vid for lv in base.levels} & {lv.vid for lv in target.levels}:
        raise InvalidLineage(f"{base.name} and {target.name} are not of one volume lineage")
    if base.chunk_size != target.chunk_size:
        raise InvalidLineage(f"{base.name} and {target.name} have different chunk sizes")


async def list_changes(store: ManifestStore, account_id: str, base_id: str, target_id: str,
                       page_size: int, page_token: str,
                       start_offset: int = 0) -> tuple[list[Change], str]:
    async with store.read() as tx:
        target = await snapshot_view(tx, account_id, target_id)
        base = await snapshot_view(tx, account_id, base_id) if base_id else None
        if base:
            _check_lineage(base, target)
    scope = f"changes:{base_id}:{target_id}:{start_offset}"
    first, size = _page(target, start_offset, page_size, page_token, scope)
    changes, next_index = await _scan(store, base, target, first, size)
    return changes, encode_token(next_index, scope) if next_index is not None else ""


async def _scan(store: ManifestStore, base: View | None, target: View, first: int,
                size: int) -> tuple[list[Change], int | None]:
    """Compare base and target at each change candidate from `first`, until `size`
    changes; returns them and the index to resume from (None: no more)."""
    last = max(target.chunk_count(), base.chunk_count() if base else 0) - 1
    sources = change_sources(base, target)
    changes: list[Change] = []
    index = first
    while index <= last:
        async with store.read() as tx:
            candidates, bound = await _candidates(tx, sources, index, last, CANDIDATE_PAGE)
            t_rows = await visible_at(tx, target, candidates)
            b_rows = await visible_at(tx, base, candidates) if base else {}
        for i in candidates:
            b, t = b_rows.get(i, False), t_rows.get(i, False)   # False: a hole
            if b != t:
                changes.append(Change(i * target.chunk_size, b, t))
                if len(changes) == size:
                    return changes, (i + 1 if i < last else None)
        if bound is None:
            break
        index = bound + 1
    return changes, None


def change_sources(base: View | None, target: View) -> list[tuple[int, int, int]]:
    """(vid, above_version, max_version): the rows that can make base and target differ.

    A vid's source is fixed, so two lineages that meet share every level below the
    meeting vid, at equal versions; only there can the versions differ. So a chunk can
    differ only if it has a row in a level one view has and the other lacks (any
    version up to that level's), or in the meeting vid between the two versions.
    """
    if base is None:
        return [(lv.vid, 0, lv.max_version) for lv in target.levels]
    b_versions = {lv.vid: lv.max_version for lv in base.levels}
    t_versions = {lv.vid: lv.max_version for lv in target.levels}
    sources = []
    for lv in target.levels:
        if lv.vid not in b_versions:
            sources.append((lv.vid, 0, lv.max_version))
        elif b_versions[lv.vid] != lv.max_version:
            low, high = sorted((b_versions[lv.vid], lv.max_version))
            sources.append((lv.vid, low, high))
    sources += [(lv.vid, 0, lv.max_version) for lv in base.levels if lv.vid not in t_versions]
    return sources


async def _candidates(tx: ManifestTx, sources: list[tuple[int, int, int]], first: int,
                      last: int, limit: int) -> tuple[list[int], int | None]:
    """Candidate chunk indexes in first..bound, ascending, and `bound` (None: every
    candidate up to `last` is in this page). A source that filled its page bounds the
    page: beyond its last index, its later candidates are not known yet."""
    found: set[int] = set()
    bound = last
    full = False
    for vid, above, high in sources:
        indexes = await tx.changed_indexes(vid, above, high, first, limit)
        found.update(indexes)
        if len(indexes) == limit:
            full = True
            bound = min(bound, indexes[-1])
    page = sorted(i for i in found if i <= bound)
    return page, (bound if full and bound < last else None)
