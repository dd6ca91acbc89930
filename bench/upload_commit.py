"""Upload commit: how long a stream of many references holds the manifest write lock.

    .venv/bin/python bench/upload_commit.py [--refs 4096] [--trials 5]

In-process, on real parts: a SQLite manifest and a chunk directory with fsync on, in a
temporary directory. `--refs` chunks are stored and known to the account; each trial is
one UploadBlocks session (data_plane.upload.UploadSession) whose blocks all reference
them, and `finish()` commits it. Prints, per trial, the wall time of `finish()` and the
time spent inside write transactions (the lock every other writer queues behind), then
their medians. Run it on an older checkout (PYTHONPATH=<checkout>) to compare: it uses
only the session API both have.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

if not any(Path(p, "data_plane").is_dir() for p in sys.path[1:] if p):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chunkstore import Compression, LocalChunkStore, blake3_token  # noqa: E402
from data_plane import upload  # noqa: E402
from data_plane.blocks import BlockIn  # noqa: E402
from data_plane.config import DataPlaneConfig  # noqa: E402
from data_plane.targets import check_target  # noqa: E402
from manifest import Account, Volume  # noqa: E402
from manifest.sqlite import SqliteManifest  # noqa: E402

CHUNK = 64 << 10
ACCOUNT = "acct-bench"


class TimedWrites:
    """The manifest, timing every write transaction (lock wait excluded)."""

    def __init__(self, store: SqliteManifest) -> None:
        self.store, self.held = store, 0.0

    def read(self):
        return self.store.read()

    @asynccontextmanager
    async def write(self):
        async with self.store.write() as tx:
            began = time.perf_counter()
            try:
                yield tx
            finally:
                self.held += time.perf_counter() - began


async def setup(root: Path, refs: int, executor) -> tuple[SqliteManifest, LocalChunkStore,
                                                            list[bytes], Volume]:
    store = await SqliteManifest.open(root / "manifest.db")
    chunks = LocalChunkStore(root / "chunks", fsync=True, executor=executor)
    tokens = []
    for n in range(refs):
        data = n.to_bytes(8, "big") * (CHUNK // 8)
        token = blake3_token(data)
        await chunks.put(token, data, Compression.NONE, CHUNK)
        tokens.append(token)
    async with store.write() as tx:
        await tx.insert_account(Account(ACCOUNT, "bench", 0), b"h" * 32)
        await tx.record_chunks([(t, CHUNK, CHUNK) for t in tokens], 0)
        await tx.add_account_tokens(ACCOUNT, tokens)
        volume = await tx.insert_volume(Volume(0, "vol-bench", ACCOUNT, refs * CHUNK, CHUNK,
                                               "", 1, 0))
    return store, chunks, tokens, volume


async def one_trial(store, chunks, tokens, executor, config) -> tuple[float, float]:
    timed = TimedWrites(store)
    async with store.read() as tx:
        target = await check_target(tx, ACCOUNT, "vol-bench", "", 0)
    extra, operations = {}, None
    if "operation" in inspect.signature(upload.UploadSession).parameters:
        from data_plane.operations import Operations   # the record the session ends
        operations = Operations(store)
        async with operations.running("upload") as op:
            await operations.record_alone(op, target.name)
            extra = {"operation": (operations, op)}
            return await _timed_finish(timed, target, chunks, tokens, executor, config, extra)
    return await _timed_finish(timed, target, chunks, tokens, executor, config, extra)


async def _timed_finish(timed, target, chunks, tokens, executor, config, extra):
    session = upload.UploadSession(target, chunks, timed, executor, config, **extra)
    for i, token in enumerate(tokens):
        await session.add(BlockIn(i * CHUNK, CHUNK, token, "none", b"", False))
    timed.held = 0.0
    began = time.perf_counter()
    await session.finish()
    return time.perf_counter() - began, timed.held


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", type=int, default=4096)
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    executor = ThreadPoolExecutor(4)
    config = DataPlaneConfig()
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        store, chunks, tokens, _ = await setup(Path(tmp), args.refs, executor)
        finishes, holds = [], []
        try:
            for trial in range(args.trials):
                finish, held = await one_trial(store, chunks, tokens, executor, config)
                finishes.append(finish)
                holds.append(held)
                print(f"trial {trial + 1}: finish() {finish * 1000:8.1f} ms, inside write "
                      f"transactions {held * 1000:8.1f} ms")
        finally:
            await store.close()
            executor.shutdown()
    print(f"{args.refs} references per stream, code from {Path(upload.__file__).parent.parent}:"
          f" median finish() {statistics.median(finishes) * 1000:.1f} ms, median write-lock "
          f"hold {statistics.median(holds) * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
