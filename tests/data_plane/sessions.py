"""In-process upload sessions below the servicer: a real SQLite manifest and chunk
directory (the `local_stores` fixture in conftest.py) and an account's volume to upload
into, optionally holding some chunks already."""

from __future__ import annotations

from collections.abc import Sequence

from data_plane.targets import Target, check_target
from manifest import Account, Volume


async def upload_target(store, account: str, volume_id: str, size: int, chunk: int,
                        held: Sequence[bytes] = ()) -> Target:
    """`account` with one volume `volume_id`, holding the chunks `held` (already stored
    in the chunk store, `chunk` bytes each), and the volume as an upload's target."""
    async with store.write() as tx:
        await tx.insert_account(Account(account, account, 0), b"h" * 32)
        if held:
            await tx.record_chunks([(t, chunk, chunk) for t in held], 0)
            await tx.add_account_tokens(account, list(held))
        await tx.insert_volume(Volume(0, volume_id, account, size, chunk, "", 1, 0))
        return await check_target(tx, account, volume_id, "", 0)
