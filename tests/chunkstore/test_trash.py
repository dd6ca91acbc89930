"""The GC delete's trash name never swallows a chunk (local backend).

`delete_if_older` renames a chunk to `.trash-*`, checks its mtime and links it back if a
put refreshed it. Two ways that could leave a chunk only under its trash name, where a
later sweep would delete it:

- power loss after the trash name is unlinked but before the link back reached the disk:
  the directory must be fsynced between the two. Checked through the `fsync_dir` seam
  (what the directory holds when it is synced). Not tested: an actual power cut (that
  needs a VM or a fault-injecting block device); what is tested is that the sync happens,
  in the right place, on the durable path.
- a crash (kill -9) between the rename and the link back: the next GC must put the chunk
  back before it removes trash. Tested for real: a process puts one chunk back in a loop
  and is killed at random points; after each kill the store recovers it.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time

import pytest

from chunkstore import Compression, LocalChunkStore, blake3_token, local_io
from chunkstore.fileformat import TRASH_PREFIX
from tests.serverproc import REPO

DATA = b"trash must not keep me" * 100
KILLS = 25


def trash_names(directory) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(TRASH_PREFIX)]


async def stored(tmp_path, durable: bool = True) -> tuple[LocalChunkStore, bytes]:
    store = LocalChunkStore(tmp_path, fsync=durable)
    token = blake3_token(DATA)
    await store.put(token, DATA, Compression.NONE, len(DATA))
    return store, token


async def test_a_put_back_is_synced_before_the_trash_name_goes(tmp_path, monkeypatch):
    store, token = await stored(tmp_path)
    path = store.path_of(token)
    synced = []
    monkeypatch.setattr(local_io, "fsync_dir", lambda d: synced.append(
        (d, path.exists(), bool(trash_names(d)))))
    assert not await store.delete(token, older_than=0.0), "fresh: put back, not deleted"
    assert synced == [(path.parent, True, True)], \
        "one directory sync, when the chunk has its name back and the trash name still exists"
    assert not trash_names(path.parent) and (await store.get(token)).plain == DATA


async def test_a_delete_that_goes_ahead_needs_no_sync_and_no_fsync_store_never_syncs(
        tmp_path, monkeypatch):
    store, token = await stored(tmp_path / "durable")
    fast, fast_token = await stored(tmp_path / "fast", durable=False)
    synced = []
    monkeypatch.setattr(local_io, "fsync_dir", synced.append)
    assert await store.delete(token, older_than=time.time() + 60)
    assert not await fast.delete(fast_token, older_than=0.0)
    assert synced == [], "losing a delete to power loss only brings back garbage"


async def test_a_chunk_left_only_under_its_trash_name_gets_its_name_back(tmp_path):
    """Exactly the state a crash between the rename and the link back leaves, however
    old the chunk: the sweep of crash leftovers (GC's first step) restores it."""
    store, token = await stored(tmp_path)
    path = store.path_of(token)
    path.rename(path.parent / f"{TRASH_PREFIX}{token.hex()}-4242-abcdef")
    assert await store.sweep_temp_files(older_than=time.time() + 3600) == (1, path.stat().st_size)
    assert (await store.get(token)).plain == DATA and not trash_names(path.parent)


LOOP = """
import sys
from pathlib import Path
from chunkstore import local_io
token, path = bytes.fromhex(sys.argv[1]), Path(sys.argv[2])
print("looping", flush=True)
while True:
    local_io.delete_if_older(token, path, 0.0)     # always fresh: always put back
"""


@pytest.mark.parametrize("seed", [1])
async def test_kill9_at_any_point_of_a_put_back_never_loses_the_chunk(tmp_path, seed):
    store, token = await stored(tmp_path)
    path = store.path_of(token)
    rng = random.Random(seed)
    restored = 0
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", LOOP, token.hex(), str(path)],
                                cwd=REPO, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "looping"
        time.sleep(rng.uniform(0, 0.02))               # where in the loop the kill lands
        assert proc.poll() is None, "the put-back loop runs until it is killed"
        proc.kill()
        proc.wait()
        proc.stdout.close()
        if not path.exists():
            restored += 1                              # the kill fell inside the window
        await store.sweep_temp_files(older_than=0.0)   # what a GC run does first
        assert (await store.get(token)).plain == DATA, "the chunk is back under its name"
        assert not trash_names(path.parent) or path.exists()
    print(f"\n{KILLS} kills, {restored} left the chunk only under its trash name; all recovered")
