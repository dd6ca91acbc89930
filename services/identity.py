"""Binds a chunk store to its manifest, so that neither is ever used with another's partner.

A store is created with a random id (`store-` + hex) written into both halves: a row of
the manifest (`store_identity`, migration 0006) and the chunk store
(`ChunkStore.set_identity`). Every start that opens both (`serve`, `data-plane`, `gc`,
`verify`) calls `bind_stores` first. Why it matters: GC deletes every chunk its manifest
does not reference, so a chunk store paired with the wrong manifest (a mistyped
`--chunks`, or a lost `manifest.db` that a start silently re-creates empty) would be
swept clean. The rules, in order (`decide`):

1. Both ids present and equal: bound, go on.
2. `--init` and an empty manifest (no account, volume or chunk): a deliberate fresh
   start; the chunk store takes the manifest's id (a new one if it has none). Its old
   chunks are referenced by nothing, so GC frees them after its grace period.
3. Manifest has an id, chunk store none: taken only if the chunk store holds no chunk
   and the manifest records none (a creation interrupted between its two writes, or
   a new data plane on a store whose control plane ran first). Otherwise refused.
4. Manifest has no id: a new store (both empty) gets a new id; a store made before ids
   existed (the manifest records chunks, the chunk store holds some, neither has an id)
   is adopted. A chunk store that holds chunks or an id beside an empty manifest, or one
   bound elsewhere, is refused.
Anything else is refused with `StoreRefused`, naming both ids; nothing is written.

Creation writes the manifest's row first (its transaction serializes concurrent first
starts, so they agree on one id), then the chunk store's copy: a crash in between leaves
case 3, which completes on the next start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from blockstore.clock import Clock, IdGenerator, RandomIds, SystemClock
from chunkstore import ChunkStore
from manifest import ManifestStore

log = logging.getLogger("blockstore.identity")
INIT_HINT = ("restore the manifest from a backup, or start afresh with --init (the chunk "
             "store's chunks then belong to nothing and garbage collection frees them)")


class StoreRefused(Exception):
    """The manifest and the chunk store do not belong together; nothing was changed."""


@dataclass(frozen=True)
class Seen:
    manifest_id: str | None
    chunks_id: str | None
    manifest_empty: bool
    manifest_records_chunks: bool
    store_holds_chunks: bool


@dataclass(frozen=True)
class Names:
    """How the two halves are named in messages (the URLs the operator gave)."""

    manifest: str = "the manifest"
    chunks: str = "the chunk store"


async def holds_chunks(chunks: ChunkStore) -> bool:
    """Whether the store holds any chunk; stops listing at the first one."""
    tokens = chunks.iter_tokens()
    try:
        async for _ in tokens:
            return True
        return False
    finally:
        close = getattr(tokens, "aclose", None)     # a generator: end its listing now
        if close is not None:
            await close()


def decide(seen: Seen, init: bool, names: Names) -> bool:
    """Whether to go on (binding what is unbound), per the module docstring; raises
    StoreRefused otherwise."""
    m, c = seen.manifest_id, seen.chunks_id
    if m and m == c:
        return True
    if init and seen.manifest_empty:
        return True
    if m:
        if c is None and not seen.store_holds_chunks and not seen.manifest_records_chunks:
            return True
        raise StoreRefused(_mismatch(seen, names))
    if c is None and seen.store_holds_chunks == seen.manifest_records_chunks:
        return True
    raise StoreRefused(_mismatch(seen, names))


def _mismatch(seen: Seen, names: Names) -> str:
    m = seen.manifest_id or "none"
    c = seen.chunks_id or "none"
    where = f"manifest {names.manifest} has store id {m}; chunk store {names.chunks} has {c}"
    if seen.manifest_empty and (seen.chunks_id or seen.store_holds_chunks):
        return (f"refusing to start: the chunk store holds data but the manifest is new or "
                f"empty ({where}); {INIT_HINT}")
    if seen.manifest_records_chunks and not seen.store_holds_chunks and not seen.chunks_id:
        return (f"refusing to start: the manifest records chunks but the chunk store is empty "
                f"({where}); is --chunks pointing at the wrong place?")
    return (f"refusing to start: the manifest and the chunk store belong to different stores "
            f"({where}); point --db and --chunks at the two halves of one store")


async def bind_stores(manifest: ManifestStore, chunks: ChunkStore, *, init: bool = False,
                      names: Names = Names(), clock: Clock | None = None,
                      ids: IdGenerator | None = None) -> str:
    """Check (and on creation, write) the binding; returns the store id."""
    chunks_id, store_holds = await chunks.get_identity(), await holds_chunks(chunks)
    async with manifest.write() as tx:
        seen = Seen(await tx.store_identity(), chunks_id, await tx.is_empty(),
                    await tx.records_chunks(), store_holds)
        decide(seen, init, names)
        store_id = seen.manifest_id
        if store_id is None:
            store_id = (ids or RandomIds()).new("store")
            await tx.set_store_identity(store_id, (clock or SystemClock()).now_us())
    if chunks_id != store_id:
        if chunks_id or store_holds:
            log.warning("chunk store %s (store id %s) now belongs to store %s", names.chunks,
                        chunks_id or "none", store_id)
        await chunks.set_identity(store_id)
    return store_id
