"""verify after a GC delete that crashed between renaming a chunk aside and linking it
back: the chunk is restored, not reported missing and forgotten (real SQLite file and
chunk directory, in-process)."""

from __future__ import annotations

from chunkstore.fileformat import TRASH_PREFIX
from services.verify import VerifyConfig, verify_store
from tests.gc.manifest_builder import volume, write
from tests.gc.test_sweep import known, put


async def test_verify_restores_a_referenced_chunk_left_under_its_trash_name(stores):
    store, chunks = stores
    token = await put(store, chunks, b"referenced" * 100)
    await write(store, await volume(store), {0: token})
    path = chunks.path_of(token)
    path.rename(path.parent / f"{TRASH_PREFIX}{token.hex()}-4242-abcdef")   # the crash state

    report = await verify_store(store, chunks)
    assert report.ok, f"nothing is missing once the chunk has its name back: {report.as_dict()}"
    assert (await chunks.get(token)).plain == b"referenced" * 100 and await known(store, token)


async def test_verify_without_repair_changes_nothing(stores):
    store, chunks = stores
    token = await put(store, chunks, b"referenced" * 100)
    await write(store, await volume(store), {0: token})
    path = chunks.path_of(token)
    path.rename(path.parent / f"{TRASH_PREFIX}{token.hex()}-4242-abcdef")
    report = await verify_store(store, chunks, VerifyConfig(repair=False))
    assert [p.kind for p in report.problems] == ["missing"] and not path.exists()
