"""Which block rows a reader can see: the rule compaction keeps, shared by the backends.

Readers of a vid: its live volume at `open_version` (unless deleted), each of its
non-deleted snapshots at their version, each active operation reading it (a download
holds what it started on, even if deleted meanwhile), and, through clones, the source
snapshot of any vid that has a reader (deleted or not: a clone reads through it). A row
(vid, index, v) whose next row of the same chunk is at v' (or none) is visible iff some
reader r of vid has v <= r < v'.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Iterator, Sequence

END = 1 << 62                      # above any chunk index
READERS = (
    "WITH RECURSIVE readers(vid, version) AS ("
    "  SELECT vid, open_version FROM volumes WHERE deleted_at IS NULL"
    "  UNION SELECT vid, version FROM snapshots WHERE deleted_at IS NULL"
    "  UNION SELECT vid, version FROM active_operations WHERE vid IS NOT NULL"
    "  UNION SELECT s.vid, s.version FROM readers r"
    "    JOIN volumes v ON v.vid = r.vid"
    "    JOIN snapshots s ON s.snapshot_id = v.source_snapshot_id)")


def with_next(rows: Sequence[tuple[int, int]]) -> Iterator[tuple[int, int, int | None]]:
    """(index, version, version of the chunk's next row or None), rows in key order."""
    for i, (index, version) in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        yield index, version, nxt[1] if nxt and nxt[0] == index else None


def seen(readers: list[int], version: int, next_version: int | None) -> bool:
    i = bisect_left(readers, version)
    return i < len(readers) and (next_version is None or readers[i] < next_version)


def invisible(rows: Sequence[tuple[int, int]], readers: list[int]) -> list[tuple[int, int]]:
    """The (index, version) of `rows` (whole chunks, key order) that no reader sees."""
    return [(index, version) for index, version, after in with_next(rows)
            if not seen(readers, version, after)]
