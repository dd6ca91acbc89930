"""Small builders of manifest records for the conformance suite."""

from __future__ import annotations

import hashlib
import itertools

from manifest import Account, Snapshot, SnapshotMode, SnapshotState, Volume

_ids = itertools.count(1)
T0 = 1_700_000_000_000_000


def token(n: int) -> bytes:
    return hashlib.blake2b(str(n).encode(), digest_size=32).digest()


async def new_account(store, name: str = "") -> Account:
    account = Account(f"acct-{next(_ids)}", name or f"name-{next(_ids)}", T0)
    async with store.write() as tx:
        await tx.insert_account(account, token(next(_ids)))
    return account


async def new_volume(store, account: Account, *, source: str = "",
                     labels: dict | None = None) -> Volume:
    volume = Volume(0, f"vol-{next(_ids):04d}", account.account_id, 8 << 20, 1 << 20, source,
                    1, T0, labels or {})
    async with store.write() as tx:
        return await tx.insert_volume(volume)


async def take_snapshot(store, volume: Volume, mode=SnapshotMode.POINT_IN_TIME,
                        state=SnapshotState.COMPLETED) -> Snapshot:
    """Snapshot at the volume's open version, bumping the counter, in one transaction."""
    async with store.write() as tx:
        vol = await tx.get_volume(volume.account_id, volume.volume_id)
        snap = Snapshot(0, f"snap-{next(_ids):04d}", vol.account_id, vol.vid, vol.volume_id,
                        vol.open_version, mode, state, 0.0, vol.size_bytes, vol.chunk_size,
                        "", "", T0, T0 if state is SnapshotState.COMPLETED else None,
                        {"k": "v"})
        snap = await tx.insert_snapshot(snap)
        await tx.set_open_version(vol.vid, vol.open_version + 1)
        return snap
