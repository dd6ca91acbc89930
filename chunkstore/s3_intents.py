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
  than the oldest active operation's start), so GC removes those older than its cutoff;
- an intent is visible within LAG_S of its key time: a writer whose intent PUT took
  longer writes it again under a fresh key before relying on it. So GC, which asks after
  every delete, lists only from RELIST_S before its previous listing (plus what it read
  then, cached), not every intent since its cutoff: everything older was visible to that
  listing. RELIST_S - LAG_S (90 s) is how far the writers' and GC's clocks may disagree.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Callable

import obstore

TOKEN = 32
LAG_S = 30.0
RELIST_S = 120.0


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
        self._listed: tuple[str, float] | None = None   # (start key, clock) of the last listing

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
        while True:
            at = self._clock()
            await obstore.put_async(self._s3, intent_key(self._prefix, at, secrets.token_hex(6)),
                                    body, use_multipart=False)
            if self._clock() - at <= LAG_S:
                return                       # else GC may have listed past it: say it again

    async def tokens_since(self, since: float) -> set[bytes]:
        """Every token named by an intent written at or after `since` (writer's clock)."""
        start, now = intent_key(self._prefix, since), self._clock()
        offset = start
        if self._listed is not None and self._listed[0] <= start:
            offset = max(start, intent_key(self._prefix, self._listed[1] - RELIST_S))
        else:
            self._bodies.clear()              # asked from further back: list it all again
        async for page in obstore.list(self._s3, prefix=self._prefix, offset=offset,
                                       chunk_size=1000):
            for meta in page:
                if meta["path"] not in self._bodies:
                    got = await obstore.get_async(self._s3, meta["path"])
                    self._bodies[meta["path"]] = bytes(await got.bytes_async())
        self._listed = (start, now)
        for key in [k for k in self._bodies if k < start]:
            del self._bodies[key]             # older than any caller still asks about
        return {body[i:i + TOKEN] for body in self._bodies.values()
                for i in range(0, len(body), TOKEN)}

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
