"""`gc --grace 0` in a tight loop against a running server while several clients upload,
reference, read, snapshot and delete: nothing acknowledged is ever lost.

The classic races are provoked on purpose. Uploads: GC marks, an upload dedups against
the chunk and skips writing it, GC sweeps, the upload commits a row to nothing. One small
pool of chunk contents is shared by every worker (two accounts); streams first ask
FindMissingChunks and send references for what the server claims to hold, and pause
between blocks. Readers: a download of a live volume runs while its owner overwrites it,
so rows it resolved lose their last reference under it. Volumes and snapshots are deleted
all the time so their chunks become garbage while others are about to reuse them. GC runs
back to back in this process against the same stores (SQLite + a directory, and
PostgreSQL + S3 on SeaweedFS) with NO grace period, beside a server on default settings: only the record of active operations keeps
it off what they use. A stream may fail with a retryable UNKNOWN_CHUNK_TOKEN or
CHUNK_COLLECTED and a reader with a retryable ABORTED, never DATA_LOSS; nothing
acknowledged may be lost, and verify is clean afterwards.
"""

from __future__ import annotations

import asyncio
import random
import time

import grpc

from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc, data_plane_pb2_grpc
from manifest import open_manifest
from services.gc import GcConfig, GcReport, collect_garbage
from services.verify import verify_store
from tests.conftest import AuthedStub
from tests.data_plane.helpers import (CHUNK, MIB, Ref, Vol, b3, block_msg, missing,
                                      new_volume, rand, read, snapshot, target_msg)
from tests.backends import StorePair
from tests.serverproc import ServerProcess, create_account

GRACE_S = 0.0
RUN_S = 10.0            # the race runs at least this long ...
MIN_GC_RUNS = 20        # ... and until GC has run this often (a loaded machine runs it less)
MAX_RUN_S = 90.0        # ... but never longer than this
WORKERS = 8
POOL = [rand(CHUNK) for _ in range(40)]
KNOWN = {b3(d): d for d in POOL}
RETRYABLE = {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED}


class Tally:
    def __init__(self) -> None:
        self.acked = self.refused = self.refs = self.volumes = self.snapshots = 0
        self.reads = self.reads_aborted = self.gc_runs = 0
        self.readers: list[asyncio.Task] = []
        self.survivors: list[tuple[object, dict, bytes]] = []    # (dp, source, image)


async def gc_loop(stores: StorePair, stop: asyncio.Event,
                  tally: "Tally") -> tuple[int, GcReport]:
    store = await open_manifest(stores.db)
    chunks = stores.chunk_store()
    total, runs = GcReport(), 0
    try:
        while not stop.is_set():
            r = await collect_garbage(store, chunks, GcConfig(grace_s=GRACE_S))
            runs += 1
            tally.gc_runs = runs
            total.rows_compacted += r.rows_compacted
            total.chunks_swept += r.chunks_swept
            total.chunks_kept_fresh += r.chunks_kept_fresh
            await asyncio.sleep(0)
    finally:
        await store.close()
    return runs, total


async def one_stream(dp, vol: Vol, rng: random.Random, tally: Tally) -> None:
    offsets = rng.sample(range(vol.size // CHUNK), rng.randint(2, 6))
    blocks = [(o * CHUNK, rng.choice(POOL) if rng.random() > 0.1 else None) for o in offsets]
    await asyncio.sleep(rng.choice([0, 0, 0.3, 1.2]))           # let GC act on the answer
    absent = set(await missing(dp, [b3(d) for _, d in blocks if d is not None]))
    sent = [(o, d if d is None or b3(d) in absent else Ref(b3(d))) for o, d in blocks]
    pauses = [rng.choice([0, 0, 0.05, 0.2, 0.4]) for _ in sent]
    if rng.random() < 0.1:
        pauses[0] = 0.5                                         # outlives many GC runs

    async def requests():
        yield target_msg(vol.volume_id)
        for (offset, content), pause in zip(sent, pauses):
            yield block_msg(offset, content, CHUNK)
            await asyncio.sleep(pause)
    try:
        await dp.UploadBlocks(requests())
    except grpc.aio.AioRpcError as err:
        assert err.code() in RETRYABLE, f"only retryable refusals: {err.code()} {err.details()}"
        tally.refused += 1
        return
    tally.acked += 1
    tally.refs += sum(isinstance(c, Ref) for _, c in sent)
    vol.apply(sent, KNOWN)


async def live_read(dp, vol: Vol, tally: Tally) -> None:
    """A whole-volume read racing its owner's next overwrites: every block it gets is
    verified (`read` checks each checksum); it may be told to retry, never DATA_LOSS."""
    try:
        await read(dp, volume_id=vol.volume_id, size=vol.size)
    except grpc.aio.AioRpcError as err:
        if err.code() == grpc.StatusCode.NOT_FOUND:           # its volume was deleted
            return
        assert err.code() == grpc.StatusCode.ABORTED, \
            f"a reader overtaken by GC is told to retry: {err.code()} {err.details()}"
        tally.reads_aborted += 1
    tally.reads += 1


async def worker(cp, dp, seed: int, started: float, tally: Tally) -> None:
    rng = random.Random(seed)
    while racing(started, tally):
        vol = await new_volume(cp, size=MIB)
        tally.volumes += 1
        snaps = []
        for _ in range(rng.randint(1, 4)):
            tally.readers.append(asyncio.create_task(live_read(dp, vol, tally)))
            await one_stream(dp, vol, rng, tally)
            if rng.random() < 0.4:
                snaps.append(((await snapshot(cp, vol.volume_id)).snapshot_id,
                              bytes(vol.image)))
                tally.snapshots += 1
        assert await read(dp, volume_id=vol.volume_id, size=MIB) == vol.image
        for snapshot_id, image in snaps:
            if rng.random() < 0.6:
                await cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=snapshot_id))
            else:
                tally.survivors.append((dp, {"snapshot_id": snapshot_id}, image))
        if rng.random() < 0.85:
            await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=vol.volume_id))
        else:
            tally.survivors.append((dp, {"volume_id": vol.volume_id}, bytes(vol.image)))


def racing(started: float, tally: Tally) -> bool:
    elapsed = time.monotonic() - started
    return elapsed < RUN_S or (tally.gc_runs < MIN_GC_RUNS and elapsed < MAX_RUN_S)


async def test_gc_in_a_tight_loop_never_loses_an_acknowledged_chunk(tmp_path, store_pair):
    data_dir, stores = tmp_path / "data", store_pair
    server = ServerProcess(["serve", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0",
                            *stores.server_args()], env=stores.env).start()
    stubs = []
    channel = grpc.aio.insecure_channel(server.address)
    try:
        for name in ("race-a", "race-b"):
            token = create_account(name, db=stores.db)["token"]
            stubs.append((AuthedStub(control_plane_pb2_grpc.ControlPlaneServiceStub(channel),
                                     token),
                          AuthedStub(data_plane_pb2_grpc.DataPlaneServiceStub(channel), token)))
        stop, tally = asyncio.Event(), Tally()
        gc = asyncio.create_task(gc_loop(stores, stop, tally))
        started = time.monotonic()
        await asyncio.gather(*(worker(*stubs[n % 2], n, started, tally)
                               for n in range(WORKERS)))
        await asyncio.gather(*tally.readers)
        stop.set()
        runs, gc_total = await gc

        for dp, source, image in tally.survivors:                  # everything acked is there
            assert await read(dp, **source, size=MIB) == image, \
                f"{source} reads back byte-identical"
        store = await open_manifest(stores.db)
        try:
            report = await verify_store(store, stores.chunk_store())
        finally:
            await store.close()
        assert report.ok, f"verify after the race: {report.as_dict()}"
        print(f"\n{stores.backend}: {runs} GC iterations with 0 lost chunks: {tally.acked} streams acked "
              f"({tally.refs} block references), {tally.refused} refused retryably, "
              f"{tally.reads} live reads ({tally.reads_aborted} told to retry), "
              f"{tally.volumes} volumes, {tally.snapshots} snapshots, "
              f"{gc_total.chunks_swept} chunks swept, {gc_total.rows_compacted} rows "
              f"compacted, {report.chunks_read} chunks verified")
        assert runs >= MIN_GC_RUNS and gc_total.chunks_swept > 0 and tally.refs > 0, \
            "the race was exercised: GC ran often, swept, and streams relied on references"
    finally:
        await channel.close()
        server.stop()
