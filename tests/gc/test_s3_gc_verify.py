"""`blockstore gc` and `verify` on the scale-out stores: a PostgreSQL manifest and an S3
chunk store (SeaweedFS). GC frees exactly what deleted volumes held, verify names a rotten
object, quarantines it and a re-upload heals it, like on a directory."""

from __future__ import annotations

import asyncio
import json

import grpc
import obstore
import pytest

from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc, data_plane_pb2_grpc
from chunkstore.fileformat import HEADER_SIZE
from chunkstore.s3 import S3ChunkStore
from chunkstore.s3_config import parse_s3_url
from tests.backends import fresh_database
from tests.conftest import AuthedStub
from tests.data_plane.helpers import CHUNK, MIB, b3, new_volume, rand, read, snapshot, upload
from tests.serverproc import ServerProcess, blockstore_cmd, create_account


@pytest.fixture(scope="module")
def scale_out_server(tmp_path_factory, pg_cluster, seaweedfs):
    db, chunks = fresh_database(pg_cluster), seaweedfs.url("blockstore", "gc-verify")
    proc = ServerProcess(["serve", "--data-dir", str(tmp_path_factory.mktemp("so")),
                          "--db", db, "--chunks", chunks, "--listen", "127.0.0.1:0"],
                         env=seaweedfs.env()).start()
    proc.db, proc.chunks, proc.weed = db, chunks, seaweedfs
    yield proc
    proc.stop()


@pytest.fixture
async def stubs(scale_out_server):
    token = create_account(f"s3-{id(object())}", db=scale_out_server.db)["token"]
    async with grpc.aio.insecure_channel(scale_out_server.address) as channel:
        yield (AuthedStub(control_plane_pb2_grpc.ControlPlaneServiceStub(channel), token),
               AuthedStub(data_plane_pb2_grpc.DataPlaneServiceStub(channel), token))


def _cli(server, command: str, *extra: str) -> tuple[int, dict]:
    out = blockstore_cmd(command, "--db", server.db, "--chunks", server.chunks, *extra,
                         "--json", env=server.weed.env(), check=False)
    assert out.returncode in (0, 1), out.stderr
    return out.returncode, json.loads(out.stdout)


def _store(server) -> S3ChunkStore:
    return S3ChunkStore(parse_s3_url(server.chunks, server.weed.env()))


async def _tokens(server) -> set[bytes]:
    return {t async for t in _store(server).iter_tokens()}


async def test_gc_on_s3_frees_what_deleted_volumes_held(scale_out_server, stubs):
    cp, dp = stubs
    keep = await new_volume(cp, size=MIB)
    await upload(dp, keep, [(i * CHUNK, rand(CHUNK)) for i in range(4)])
    kept_snap = await snapshot(cp, keep.volume_id)
    doomed = await new_volume(cp, size=MIB)
    await upload(dp, doomed, [(0, bytes(keep.image[:CHUNK]))] +
                 [(i * CHUNK, rand(CHUNK)) for i in range(1, 9)])
    before = await _tokens(scale_out_server)
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=doomed.volume_id))
    await asyncio.sleep(0.05)         # the grace-0 cutoff must be after the last touch

    code, report = _cli(scale_out_server, "gc", "--grace", "0")
    assert code == 0 and report["chunks_swept"] == 8, report
    gone = before - await _tokens(scale_out_server)
    assert gone == {b3(bytes(doomed.image[i * CHUNK:(i + 1) * CHUNK])) for i in range(1, 9)}, \
        "exactly the deleted volume's own chunks left the bucket"
    assert await read(dp, snapshot_id=kept_snap.snapshot_id, size=MIB) == bytes(keep.image), \
        "the surviving snapshot reads byte-identical, its shared chunk included"


async def test_verify_on_s3_names_quarantines_and_a_reupload_heals(scale_out_server, stubs):
    cp, dp = stubs
    vol = await new_volume(cp, size=MIB)
    blocks = [(i * CHUNK, rand(CHUNK)) for i in range(2)]
    await upload(dp, vol, blocks)
    store, bad = _store(scale_out_server), b3(blocks[1][1])
    raw = bytearray(await store.read_raw(bad))
    raw[HEADER_SIZE + 100] ^= 0x01                       # bit rot inside the payload
    await obstore.put_async(store.s3, store.config.chunk_key(bad), bytes(raw))

    code, report = _cli(scale_out_server, "verify")
    assert code == 1 and [p["token"] for p in report["problems"]] == [bad.hex()]
    assert report["problems"][0]["quarantined"] and report["problems"][0]["volumes"] == \
        [vol.volume_id], "verify names the rotten chunk and the volume that reads it"
    assert bad not in await _tokens(scale_out_server), "the rotten object was moved aside"
    quarantined = [m["path"] async for page in obstore.list(
        store.s3, prefix=store.config.key("quarantine") + "/") for m in page]
    assert len(quarantined) == 1 and bad.hex() in quarantined[0]

    await upload(dp, vol, [blocks[1]])                   # the same data heals the store
    assert (await read(dp, volume_id=vol.volume_id, size=MIB))[:2 * CHUNK] == \
        b"".join(d for _, d in blocks)
    assert _cli(scale_out_server, "verify")[0] == 0, "verify is clean after the re-upload"
