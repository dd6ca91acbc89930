"""Build manifest layouts directly (no servers) for compaction and sweep tests."""

from __future__ import annotations

import itertools

from manifest import Account, Snapshot, SnapshotMode, SnapshotState, Volume
from manifest.sqlite import SqliteManifest

_ids = itertools.count(1)
ACCOUNT = "acct-test"


async def open_store(tmp_path) -> SqliteManifest:
    store = await SqliteManifest.open(tmp_path / "manifest.db")
    async with store.write() as tx:
        await tx.insert_account(Account(ACCOUNT, "test", 0), b"h" * 32)
    return store


async def volume(store, source: Snapshot | None = None) -> Volume:
    v = Volume(0, f"vol-{next(_ids)}", ACCOUNT, 1 << 20, 1 << 16,
               source.snapshot_id if source else "", 1, 0)
    async with store.write() as tx:
        return await tx.insert_volume(v)


async def write(store, vol: Volume, rows: dict[int, bytes | None]) -> None:
    """Rows at the volume's current open version."""
    async with store.write() as tx:
        v = await tx.get_volume_by_vid(vol.vid)
        await tx.upsert_blocks(v.vid, v.open_version, sorted(rows.items()))


async def snapshot(store, vol: Volume, state=SnapshotState.COMPLETED) -> Snapshot:
    async with store.write() as tx:
        v = await tx.get_volume_by_vid(vol.vid)
        s = Snapshot(0, f"snap-{next(_ids)}", ACCOUNT, v.vid, v.volume_id, v.open_version,
                     SnapshotMode.POINT_IN_TIME, state, 0.0, v.size_bytes, v.chunk_size, "",
                     "", 0)
        s = await tx.insert_snapshot(s)
        await tx.set_open_version(v.vid, v.open_version + 1)
        return s


async def delete_snapshot(store, snap: Snapshot) -> None:
    async with store.write() as tx:
        await tx.update_snapshot(snap.replace(deleted_at=1))


async def delete_volume(store, vol: Volume) -> None:
    async with store.write() as tx:
        await tx.mark_volume_deleted(vol.vid, 1)


async def rows(store, vol: Volume) -> list[tuple[int, int, bytes | None]]:
    """(chunk_index, version, token) of every row of the volume."""
    async with store.read() as tx:
        found = await tx._all("SELECT chunk_index, version, token FROM blocks WHERE vid = ? "
                              "ORDER BY chunk_index, version", (vol.vid,))
    return [tuple(r) for r in found]


async def compact(store) -> int:
    async with store.write() as tx:
        return await tx.compact_blocks()


def tok(n: int) -> bytes:
    return bytes([n]) * 32
