"""kill -9 the server at random points while upload streams, snapshot creations,
deletions and its own periodic GC (every 0.2 s, 1 s grace) run; restart and check:

- every acknowledged write and every acknowledged snapshot reads back byte-identical
  (snapshots of deleted volumes included: GC must not compact what they see);
- a stream cut by the kill is all or nothing; a cut CreateSnapshot retried with its
  idempotency key yields exactly one snapshot with the content at creation;
- `PRAGMA integrity_check` is ok after every kill, and verify (which must take over
  the maintenance lease the killed server still holds) finds nothing wrong.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field

import grpc

from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc, data_plane_pb2_grpc
from chunkstore import LocalChunkStore
from manifest.sqlite import SqliteManifest
from services.verify import verify_store
from tests.conftest import AuthedStub
from tests.data_plane.helpers import (CHUNK, MIB, Ref, Vol, b3, block_msg, missing,
                                      new_volume, rand, read, target_msg)
from tests.gc.helpers import integrity, verify_cli
from tests.serverproc import create_account, serve

ROUNDS = 6
WORKERS = 4
POOL = [rand(CHUNK) for _ in range(16)]
KNOWN = {b3(d): d for d in POOL}
CUT = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}
REFUSED = {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED}


@dataclass
class Pending:
    kind: str                     # "stream" | "snapshot" | "delete-snapshot" | "delete-volume"
    blocks: list = field(default_factory=list)
    key: str = ""
    snapshot_id: str = ""


@dataclass
class Worker:
    rng: random.Random
    vol: Vol | None = None
    snaps: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id -> (volume, image)
    pending: Pending | None = None
    acked: int = 0


class Stubs:
    def __init__(self, address: str, token: str) -> None:
        self.channel = grpc.aio.insecure_channel(address)
        self.cp = AuthedStub(control_plane_pb2_grpc.ControlPlaneServiceStub(self.channel), token)
        self.dp = AuthedStub(data_plane_pb2_grpc.DataPlaneServiceStub(self.channel), token)


async def stream(s: Stubs, w: Worker) -> None:
    offsets = w.rng.sample(range(w.vol.size // CHUNK), w.rng.randint(1, 5))
    blocks = [(o * CHUNK, w.rng.choice(POOL) if w.rng.random() < 0.7 else rand(CHUNK))
              for o in offsets]
    absent = set(await missing(s.dp, [b3(d) for _, d in blocks]))
    sent = [(o, d if b3(d) in absent else Ref(b3(d))) for o, d in blocks]
    w.pending = Pending("stream", [(o, d) for o, d in blocks])

    async def requests():
        yield target_msg(w.vol.volume_id)
        for offset, content in sent:
            yield block_msg(offset, content, CHUNK)
            await asyncio.sleep(w.rng.choice([0, 0.02, 0.1]))
    await s.dp.UploadBlocks(requests())
    w.vol.apply(sent, KNOWN)


async def create_snapshot(s: Stubs, w: Worker, key: str) -> None:
    w.pending = Pending("snapshot", key=key)
    snap = (await s.cp.CreateSnapshot(cpb.CreateSnapshotRequest(
        volume_id=w.vol.volume_id, idempotency_key=key))).snapshot
    w.snaps[snap.snapshot_id] = (w.vol.volume_id, bytes(w.vol.image))


async def delete_snapshot(s: Stubs, w: Worker, snapshot_id: str) -> None:
    w.pending = Pending("delete-snapshot", snapshot_id=snapshot_id)
    await s.cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=snapshot_id,
                                                        allow_missing=True))
    del w.snaps[snapshot_id]


async def delete_volume(s: Stubs, w: Worker) -> None:
    w.pending = Pending("delete-volume")
    await s.cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=w.vol.volume_id,
                                                    allow_missing=True))
    w.vol = None


async def run_until_killed(s: Stubs, w: Worker, killed: asyncio.Event) -> None:
    """Random operations until the server dies under one of them (left in w.pending)."""
    while True:
        try:
            if w.vol is None:
                w.vol = await new_volume(s.cp, size=MIB)
                w.snaps[w.vol.initial_snapshot_id] = (w.vol.volume_id, bytes(MIB))
            roll = w.rng.random()
            if roll < 0.55:
                await stream(s, w)
            elif roll < 0.75:
                await create_snapshot(s, w, uuid.uuid4().hex)
            elif roll < 0.85 and w.snaps:
                await delete_snapshot(s, w, w.rng.choice(sorted(w.snaps)))
            elif roll >= 0.85:
                await delete_volume(s, w)          # its snapshots live on
            w.acked += 1
            w.pending = None
        except grpc.aio.AioRpcError as err:
            # A client stream that loses its connection while sending may also surface
            # as a client-side INTERNAL; only after the kill is that a cut.
            if err.code() in CUT or (killed.is_set() and err.code() == grpc.StatusCode.INTERNAL):
                return
            assert err.code() in REFUSED, f"{err.code()}: {err.details()}"
            w.pending = None


async def reconcile(s: Stubs, w: Worker) -> None:
    """Settle the operation the kill cut, then check everything acknowledged."""
    p, w.pending = w.pending, None
    if p and p.kind == "stream" and w.vol:
        seen = await read(s.dp, volume_id=w.vol.volume_id, size=MIB)
        new = bytearray(w.vol.image)
        for offset, data in p.blocks:
            new[offset:offset + CHUNK] = data
        assert seen in (bytes(w.vol.image), bytes(new)), "a cut stream is all or nothing"
        w.vol.image = bytearray(seen)
    elif p and p.kind == "snapshot":
        await create_snapshot(s, w, p.key)         # the key makes the retry exactly-once
    elif p and p.kind == "delete-snapshot":
        await delete_snapshot(s, w, p.snapshot_id)
    elif p and p.kind == "delete-volume":
        await delete_volume(s, w)
    if w.vol:
        assert await read(s.dp, volume_id=w.vol.volume_id, size=MIB) == w.vol.image, \
            f"acknowledged writes of {w.vol.volume_id} survive kill -9"
        listed = await s.cp.ListSnapshots(cpb.ListSnapshotsRequest(
            volume_id=w.vol.volume_id, page_size=1000))
        assert {x.snapshot_id for x in listed.snapshots} == \
            {sid for sid, (vid, _) in w.snaps.items() if vid == w.vol.volume_id}, \
            "no snapshot twice, none lost"
    for snapshot_id, (_, image) in w.snaps.items():
        assert await read(s.dp, snapshot_id=snapshot_id, size=MIB) == image, \
            f"snapshot {snapshot_id} reads byte-identical after kill -9"


async def verify_in_process(data_dir) -> None:
    store = await SqliteManifest.open(data_dir / "manifest.db")
    try:
        report = await verify_store(store, LocalChunkStore(data_dir / "chunks"))
    finally:
        await store.close()
    assert report.ok, f"verify after kill -9: {report.as_dict()}"


async def test_kill9_during_uploads_snapshots_deletes_and_gc(tmp_path):
    rng = random.Random(5)
    data_dir = tmp_path / "data"
    gc_flags = ("--gc-interval", "0.2", "--gc-grace", "1")
    server = serve(data_dir, *gc_flags)
    token = create_account("crash-gc", data_dir=data_dir)["token"]
    workers = [Worker(random.Random(rng.random())) for _ in range(WORKERS)]
    survived = cut = gc_runs_logged = 0
    try:
        for _ in range(ROUNDS):
            s = Stubs(server.address, token)
            killed = asyncio.Event()
            tasks = [asyncio.create_task(run_until_killed(s, w, killed)) for w in workers]
            await asyncio.sleep(rng.uniform(0.8, 2.0))
            killed.set()
            server.kill9()
            await asyncio.gather(*tasks)
            await s.channel.close()
            gc_runs_logged += sum(" blockstore.gc: gc: " in line for line in server.output)
            cut += sum(w.pending is not None for w in workers)
            assert integrity(data_dir) == "ok", "the manifest survives kill -9"
            server = serve(data_dir, *gc_flags)
            s = Stubs(server.address, token)
            for w in workers:
                await reconcile(s, w)
            await verify_in_process(data_dir)
            await s.channel.close()
            survived += 1
        server.stop()
        code, report = verify_cli(data_dir)
        assert code == 0 and report["integrity"] == ["ok"], report
        acked = sum(w.acked for w in workers)
        print(f"\n{survived} kill -9 rounds survived ({cut} operations cut mid-flight, "
              f"{acked} acknowledged, {gc_runs_logged} GC runs logged); "
              f"verify clean over {report['chunks_read']} chunks")
        assert cut >= ROUNDS, "every kill cut operations in flight"
        assert gc_runs_logged > 0, "the server's periodic GC ran (and was killed) too"
    finally:
        server.stop()
