"""Building a large manifest fast: rows and snapshots written through the manifest API.

Uploading a million chunks would take the benchmark's whole budget, so the rows that
only need to exist (the bulk of a big volume, thousands of old snapshots) go straight
into the database through `ManifestStore`, next to a running server (SQLite serializes
the two processes' writers). Every chunk a row names was uploaded for real first, so
reads and GC see a consistent store.
"""

from __future__ import annotations

import os
import uuid

from manifest import ManifestStore, Snapshot, SnapshotMode, SnapshotState

ROWS_PER_TX = 100_000


async def account_id(store: ManifestStore, name: str) -> str:
    async with store.read() as tx:
        account = await tx.account_by_name(name)
    assert account is not None, f"account {name} missing"
    return account.account_id


async def vid_of(store: ManifestStore, account: str, volume_id: str) -> int:
    async with store.read() as tx:
        volume = await tx.get_volume(account, volume_id)
    assert volume is not None
    return volume.vid


async def write_rows(store: ManifestStore, vid: int, version: int,
                     indexes: range, token: bytes) -> None:
    """Rows (index, token) at `version`, by reference to a chunk the account holds."""
    for i in range(0, len(indexes), ROWS_PER_TX):
        part = indexes[i:i + ROWS_PER_TX]
        async with store.write() as tx:
            await tx.upsert_blocks(vid, version, [(j, token) for j in part])


async def add_snapshots(store: ManifestStore, account: str, volume_id: str,
                        count: int, now_us: int) -> int:
    """`count` completed point-in-time snapshots at the volume's next versions, as
    CreateSnapshot would leave them; returns the volume's snapshot count after."""
    async with store.write() as tx:
        volume = await tx.get_volume(account, volume_id)
        assert volume is not None
        earlier = await tx.volume_snapshots(volume.vid)
        parent = earlier[-1].snapshot_id if earlier else ""
        version = volume.open_version
        for _ in range(count):
            snap = Snapshot(0, f"snap-{uuid.uuid4().hex}", account, volume.vid, volume_id,
                            version, SnapshotMode.POINT_IN_TIME, SnapshotState.COMPLETED, 1.0,
                            volume.size_bytes, volume.chunk_size, parent, "", now_us, now_us)
            await tx.insert_snapshot(snap)
            parent, version = snap.snapshot_id, version + 1
        await tx.set_open_version(volume.vid, version)
        return len(earlier) + count


async def add_account_tokens(store: ManifestStore, account: str, count: int) -> list[bytes]:
    """`count` random tokens in the account's chunk set (GC's batch statements scan it)."""
    tokens = [os.urandom(32) for _ in range(count)]
    for i in range(0, count, ROWS_PER_TX):
        async with store.write() as tx:
            await tx.add_account_tokens(account, tokens[i:i + ROWS_PER_TX])
    return tokens
