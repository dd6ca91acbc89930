"""Write intents of the S3 backend: "these chunks are about to be PUT", one small object
per group of writes instead of one marker per chunk.

An overwrite (`put(..., overwrite=True)`, a plain PUT: the same work whether or not the
chunk exists) can land between GC's read of an old chunk and its delete, and the delete
then removes what the writer just stored. GC must see a trace of the writer after its
delete, so the writer announces the token BEFORE its PUT, and GC reads the announcements
AFTER its delete (s3_delete.py): either the PUT landed after the delete (the chunk is
there) or the announcement precedes the delete and GC puts the chunk back.

Rules:
- group commit: while one intent object is being written, the tokens announced meanwhile
  wait and go out together in the next one, so a busy writer pays about one small PUT per
  group, not per chunk; nobody's PUT starts before an intent naming its token is stored;
- key `intents/<time_ns, 20 digits>-<random>`: listing from a time's key gives every
  intent written since then (string order is time order), the body is the tokens, 32
  bytes each; objects are immutable, so bodies are cached by key;
- an intent matters only while the stream that wrote it runs (GC's cutoff is never later
  than the oldest active operation's start), so GC removes those older than its cutoff.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Callable

import obstore

TOKEN = 32


def intent_key(prefix: str, seconds: float, salt: str = "") -> str:
    """Clamped to 20 digits (verify asks from -inf), so string order stays time order."""
    nanos = int(min(max(seconds, 0.0), 1e11 - 1) * 1e9)
    return f"{prefix}{nanos:020d}-{salt}"


class IntentLog:
    def __init__(self, s3, prefix: str, clock: Callable[[], float]) -> None:
        self._s3, self._prefix, self._clock = s3, prefix, clock
        self._pending: list[tuple[bytes, asyncio.Future]] = []
        self._lock = asyncio.Lock()
        self._bodies: dict[str, bytes] = {}

    async def announce(self, token: bytes) -> None:
        """Returns once an intent naming `token` is stored."""
        done = asyncio.get_running_loop().create_future()
        self._pending.append((token, done))
        async with self._lock:               # one intent write at a time
            if not done.done():              # nobody wrote ours meanwhile: write the group
                group, self._pending = self._pending, []
                try:
                    await self._write(b"".join(t for t, _ in group))
                except asyncio.CancelledError:
                    self._pending[:0] = [g for g in group if g[1] is not done]
                    raise
                except Exception as exc:
                    for _, fut in group:
                        if fut is not done:
                            fut.set_exception(exc)
                    raise
                for _, fut in group:
                    fut.set_result(None)
        done.result()

    async def _write(self, body: bytes) -> None:
        key = intent_key(self._prefix, self._clock(), secrets.token_hex(6))
        await obstore.put_async(self._s3, key, body, use_multipart=False)

    async def tokens_since(self, since: float) -> set[bytes]:
        """Every token named by an intent written at or after `since` (writer's clock)."""
        start = intent_key(self._prefix, since)
        tokens: set[bytes] = set()
        async for page in obstore.list(self._s3, prefix=self._prefix, offset=start,
                                       chunk_size=1000):
            for meta in page:
                key = meta["path"]
                if key not in self._bodies:
                    got = await obstore.get_async(self._s3, key)
                    self._bodies[key] = bytes(await got.bytes_async())
                body = self._bodies[key]
                tokens.update(body[i:i + TOKEN] for i in range(0, len(body), TOKEN))
        for key in [k for k in self._bodies if k < start]:
            del self._bodies[key]             # older than any caller still asks about
        return tokens

    async def prune(self, older_than: float) -> tuple[int, int]:
        """Removes intents written before `older_than`; returns (objects, bytes)."""
        end = intent_key(self._prefix, older_than)
        count = size = 0
        async for page in obstore.list(self._s3, prefix=self._prefix, chunk_size=1000):
            for meta in page:
                if meta["path"] >= end:
                    return count, size
                await obstore.delete_async(self._s3, meta["path"])
                self._bodies.pop(meta["path"], None)
                count, size = count + 1, size + meta["size"]
        return count, size
