"""Which chunks of an upload stream the caller's account already holds, looked up ahead.

The answer picks how a new chunk is stored (data_plane/upload.py: a dedup hit, or an
overwrite charged as stored). At 1 MiB chunks a batch holds a few chunks at most (one
when the stream's pipeline is empty), and one manifest read per batch was most of the
database's work in a backup (three statements on PostgreSQL: BEGIN, the lookup, COMMIT).
So each lookup also asks about the blocks that have arrived since the last one (their
claimed checksums; a wrong claim only costs a wasted row in the answer, the stream fails
on it anyway), and later batches find their answer here.

Rules kept:
- one lookup at a time per stream, so concurrent batches share an answer in flight
  instead of repeating it;
- an answer may be older than the put it decides: it only picks between two ways of
  storing that are both safe (the one-lookup-per-batch code had the same window between
  lookup and put, only shorter); the commit re-checks nothing of it, as before.
"""

from __future__ import annotations

import asyncio

from manifest import ManifestStore

AHEAD = 256                      # arrived tokens asked about per lookup, at most


class HeldLookups:
    def __init__(self, store: ManifestStore, account_id: str) -> None:
        self._store, self._account = store, account_id
        self._held: dict[bytes, bool] = {}
        self._arrived: list[bytes] = []
        self._lock = asyncio.Lock()
        self.lookups = 0

    def arrived(self, token: bytes) -> None:
        """A data block claiming `token` joined the stream."""
        self._arrived.append(token)

    async def held(self, tokens: list[bytes]) -> set[bytes]:
        async with self._lock:
            if any(t not in self._held for t in tokens):
                ahead, self._arrived = self._arrived[:AHEAD], self._arrived[AHEAD:]
                ask = {t for t in (*tokens, *ahead) if t not in self._held}
                async with self._store.read() as tx:
                    known = await tx.tokens_known(self._account, list(ask))
                self.lookups += 1
                self._held.update((t, t in known) for t in ask)
        return {t for t in tokens if self._held[t]}
