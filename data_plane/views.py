"""What a read or write addresses: a volume or snapshot, its lineage and its rows.

Owns `View` and the lineage walk. Rule: reads and listings resolve rows only through
here, so every one of them sees the same chunk at the same version.

A read of volume V at version v sees, per chunk, V's newest row with version <= v,
else the newest row of V's source snapshot's volume at the source's version, and so
on down the clone chain (`LineageLevel`s, nearest first).
"""

from __future__ import annotations

from dataclasses import dataclass

from blockstore.errors import InvalidArgument
from manifest import BlockRow, LineageLevel, ManifestTx
from manifest.export import require_snapshot_export, require_volume_export
from manifest.lookups import require_volume, visible_snapshot


@dataclass(frozen=True)
class View:
    name: str                     # "volume vol-..." / "snapshot snap-...", for messages
    vid: int
    version: int
    size_bytes: int
    chunk_size: int
    levels: tuple[LineageLevel, ...]

    def chunk_count(self) -> int:
        return -(-self.size_bytes // self.chunk_size)

    def block_length(self, index: int) -> int:
        return min(self.chunk_size, self.size_bytes - index * self.chunk_size)


async def lineage(tx: ManifestTx, vid: int, version: int) -> tuple[LineageLevel, ...]:
    levels = [LineageLevel(vid, version)]
    volume = await tx.get_volume_by_vid(vid)
    while volume is not None and volume.source_snapshot_id:
        source = await tx.get_snapshot_any(volume.source_snapshot_id)
        if source is None:
            break
        levels.append(LineageLevel(source.vid, source.version))
        volume = await tx.get_volume_by_vid(source.vid)
    return tuple(levels)


async def volume_view(tx: ManifestTx, account_id: str, volume_id: str) -> View:
    """The volume's live content: everything up to and including its open version.
    Views are for read-outs only, so export control applies (manifest/export.py)."""
    v = await require_volume(tx, account_id, volume_id)
    require_volume_export(v)
    return View(f"volume {v.volume_id}", v.vid, v.open_version, v.size_bytes, v.chunk_size,
                await lineage(tx, v.vid, v.open_version))


async def snapshot_view(tx: ManifestTx, account_id: str, snapshot_id: str) -> View:
    s, share = await visible_snapshot(tx, account_id, snapshot_id)
    await require_snapshot_export(tx, s, share)
    return View(f"snapshot {s.snapshot_id}", s.vid, s.version, s.size_bytes, s.chunk_size,
                await lineage(tx, s.vid, s.version))


async def source_view(tx: ManifestTx, account_id: str, volume_id: str,
                      snapshot_id: str) -> View:
    if bool(volume_id) == bool(snapshot_id):
        raise InvalidArgument("name exactly one of volume_id and snapshot_id")
    if volume_id:
        return await volume_view(tx, account_id, volume_id)
    return await snapshot_view(tx, account_id, snapshot_id)


async def rows_in(tx: ManifestTx, view: View, first: int, last: int,
                  limit: int | None = None) -> list[BlockRow]:
    """The visible rows for chunk indexes first..last (ascending, at most `limit`)."""
    merged: dict[int, BlockRow] = {}
    for level in view.levels:
        for row in await tx.newest_rows(level.vid, level.max_version, first, last, limit):
            merged.setdefault(row.chunk_index, row)
    last_index = view.chunk_count() - 1
    rows = sorted((r for r in merged.values() if r.chunk_index <= last_index),
                  key=lambda r: r.chunk_index)
    return rows[:limit] if limit is not None else rows


async def visible_at(tx: ManifestTx, view: View, indexes: list[int]) -> dict[int, bytes | None]:
    """What the view reads at each of `indexes`: token, None (written zeros), or absent
    (a hole). Point lookups level by level, so the cost follows len(indexes)."""
    wanted = [i for i in indexes if i < view.chunk_count()]
    found: dict[int, bytes | None] = {}
    for level in view.levels:
        if not wanted:
            break
        for row in await tx.newest_at(level.vid, level.max_version, wanted):
            found[row.chunk_index] = row.token
        wanted = [i for i in wanted if i not in found]
    return found
