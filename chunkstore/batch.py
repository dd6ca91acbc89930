"""`put_each`: `put_many` for a backend whose puts share nothing (memory, S3).

Owns `put_each`. Rule: a batch fails as a whole and leaves no put running.

The puts of a batch run side by side; if one fails the others are cancelled and awaited
before the error propagates, so no put of a failed batch keeps running unseen.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Sequence

from chunkstore.protocol import ChunkPut

Put = Callable[..., Awaitable[bool]]


async def put_each(put: Put, puts: Sequence[ChunkPut]) -> list[bool]:
    tasks = [asyncio.ensure_future(put(p.token, p.payload, p.compression, p.plain_length,
                                       overwrite=p.overwrite)) for p in puts]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
