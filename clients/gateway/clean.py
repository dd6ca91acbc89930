"""Clean chunks in primary mode: what the service holds, read through the chunk cache.

Rules kept: a chunk's bytes come from the cache (filed under the token the service
gave, verified when they entered) or from one DownloadBlocks fetch, verified before
use; concurrent readers of one missing chunk share that one fetch; holes and zero
chunks are never fetched.
"""

from __future__ import annotations

import asyncio

from clients.gateway.cache import ChunkCache
from clients.gateway.disk import io_error
from clients.gateway.remote import RemoteVolume
from clients.gateway.status import Stats


class CleanChunks:
    def __init__(self, remote: RemoteVolume, cache: ChunkCache, stats: Stats) -> None:
        self.remote, self.cache, self.stats = remote, cache, stats
        self._fetching: dict[int, asyncio.Future] = {}

    def local(self, index: int, start: int, n: int) -> bytes | None:
        """The bytes if no fetch is needed (a zero chunk, a hole, a cache hit), else None."""
        token = self.remote.tokens.get(index)
        if not token:
            return bytes(n)
        hit = self.cache.read(token, start, n)
        if hit is not None and len(hit) == n:
            self.stats.cache_hits += 1
            return hit
        return None

    async def read(self, index: int, start: int, n: int) -> bytes:
        local = self.local(index, start, n)
        if local is not None:
            return local
        self.stats.cache_misses += 1
        data = await self.whole(index)
        return data[start:start + n] if data else bytes(n)

    async def whole(self, index: int) -> bytes:
        """The service's bytes of a chunk (b"" for zeros), via the cache."""
        token = self.remote.tokens.get(index)
        if not token:
            return b""
        cached = self.cache.read(token, 0, self.remote.layout.length(index))
        if cached is not None:
            return cached
        if index not in self._fetching:
            self._fetching[index] = asyncio.ensure_future(self._fetch(index))
        return await asyncio.shield(self._fetching[index])

    async def _fetch(self, index: int) -> bytes:
        try:
            token, data = (await self.remote.fetch([index]))[index]
            self.remote.set_token(index, token)
            if data:
                self.cache.put_verified(token, data)   # verify_block checked it
                self.stats.cache_bytes = self.cache.used
            return data
        except Exception as err:
            raise io_error(f"reading chunk {index} of volume {self.remote.volume_id}: {err}") from err
        finally:
            del self._fetching[index]
