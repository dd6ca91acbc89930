"""The S3 backend's conditional delete for garbage collection: remove a chunk only if
nobody has seen it since `older_than`, safely against writers in other processes.

S3 has no rename and no compare-and-delete, so "move aside, check, put back" (the local
backend's protocol) becomes "keep the bytes, delete, check, put back":
  1. the chunk's last-seen time is before `older_than` (else keep it);
  2. read the whole object into memory;
  3. delete it;
  4. look for writers that relied on it meanwhile: a `seen/` time at or after
     `older_than` (dedup hits and touches write it before they check the chunk) or a
     write intent naming it written since `older_than` (overwrites announce themselves
     before their PUT, s3_intents.py); if there is one, put the same bytes back,
     create-only (a writer that found it gone has written it itself), report it kept;
  5. else drop its seen object too.
A create-only PUT leaves no trace and needs none: it cannot succeed before step 3.
A crash between 3 and 4 loses only a chunk that was unreferenced and unseen at step 1,
like the local backend's crash between its rename and its check.
"""

from __future__ import annotations

from obstore import delete_async


async def delete_if_older(store, token: bytes, older_than: float) -> bool:
    info = await store.stat(token)
    if info is None or info.mtime >= older_than:
        return False
    raw = await store.read_raw(token)
    if raw is None:
        return False
    await delete_async(store.s3, store.config.chunk_key(token))
    seen = await store.seen_time(token)
    if (seen is not None and seen >= older_than) \
            or token in await store.intents.tokens_since(older_than):
        await store.restore(token, raw)
        return False
    await delete_async(store.s3, store.config.seen_key(token))
    return True
