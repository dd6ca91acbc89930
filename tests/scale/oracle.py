"""What a view reads per chunk, computed from the raw block rows in plain Python.

Independent of the queries under test: it reads every row of each lineage level and
applies the rule of manifest/__init__.py (per chunk, the newest row at or below the
level's version; the nearest level that has one wins; no row at all is a hole).
"""

from __future__ import annotations

HOLE = False


async def visible(store, view) -> dict[int, bytes | None]:
    seen: dict[int, bytes | None] = {}
    async with store.read() as tx:
        for level in view.levels:
            rows = await _raw_rows(tx, level.vid, level.max_version)
            newest = {index: token for index, _, token in rows}
            for index, token in newest.items():
                if index < view.chunk_count():
                    seen.setdefault(index, token)
    return seen


async def _raw_rows(tx, vid: int, max_version: int) -> list:
    sql = ("SELECT chunk_index, version, token FROM blocks WHERE vid = {} AND version <= {} "
           "ORDER BY chunk_index, version")
    if type(tx).__name__ == "PostgresTx":
        return await tx._all(sql.format("$1", "$2"), vid, max_version)
    return await tx._all(sql.format("?", "?"), (vid, max_version))


def changes(base: dict, target: dict, chunk: int) -> list[tuple[int, object, object]]:
    indexes = sorted(set(base) | set(target))
    return [(i * chunk, base.get(i, HOLE), target.get(i, HOLE)) for i in indexes
            if base.get(i, HOLE) != target.get(i, HOLE)]


def pieces(seen: dict, chunk: int, size: int, offset: int, length: int) -> list[tuple]:
    """(offset, length, token) per piece, adjacent zeros and holes merged (token None)."""
    out: list[tuple] = []
    end = offset + length
    for i in range(offset // chunk, (end - 1) // chunk + 1):
        lo, hi = max(offset, i * chunk), min(end, (i + 1) * chunk)
        token = seen.get(i)
        if token is None and out and out[-1][2] is None:
            out[-1] = (out[-1][0], hi - out[-1][0], None)
        else:
            out.append((lo, hi - lo, token))
    return out
