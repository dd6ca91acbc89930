"""Re-reading a stored chunk and moving it aside if it rotted, for any backend.

Owns `recheck`, which GC and verify use to settle a chunk in doubt. Rule: a copy that
fails verification is quarantined, never deleted, so the next put of that data stores it
afresh instead of deduplicating against rot, and the bad bytes stay for inspection.
"""

from __future__ import annotations

from enum import Enum

from blockstore.errors import ChunkCorrupt, ChunkMissing
from chunkstore.protocol import ChunkStore


class Recheck(str, Enum):
    SOUND = "sound"              # present and verified (perhaps just rewritten by a put)
    MISSING = "missing"
    QUARANTINED = "quarantined"  # failed verification and was moved aside


async def recheck(store: ChunkStore, token: bytes) -> Recheck:
    """Verify the stored copy of `token` now; a rotten one is quarantined, so the next
    put of that data stores it afresh instead of deduplicating against it."""
    try:
        await store.get(token)
        return Recheck.SOUND
    except ChunkMissing:
        return Recheck.MISSING
    except ChunkCorrupt:
        await store.quarantine(token)
        return Recheck.QUARANTINED
