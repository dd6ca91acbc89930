"""Corrupt manifest bytes: every error a client sees has a code and a reason, and
`blockstore verify` names the damage.

A real server writes a manifest, stops; bytes of a copy are flipped on disk; a server on
the copy is then asked everything a client can ask. A text value that is no longer UTF-8
used to reach clients as UNKNOWN "Could not decode to UTF-8" without an ErrorInfo.
"""

from __future__ import annotations

import json
import os
import random
import shutil

import grpc
import pytest

from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import data_plane_pb2 as dpb
from tests.limits.conftest import CHUNK, Client, block, target
from tests.rpcerrors import error_info
from tests.serverproc import ServerProcess, blockstore_cmd, serve

CANARY = "canarycanarycanary"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A data dir with two volumes (one labelled with CANARY), blocks and a snapshot."""
    data_dir = tmp_path_factory.mktemp("pristine")
    server = serve(data_dir)
    client = Client(server.address, data_dir)
    try:
        for labels in ({"owner": CANARY}, {}):
            vid = client.cp.CreateVolume(cpb.CreateVolumeRequest(
                size_bytes=1 << 20, chunk_size=CHUNK, labels=labels)).volume.volume_id
            client.dp.UploadBlocks(iter([target(vid)] + [
                block(i * CHUNK, os.urandom(CHUNK), CHUNK) for i in range(3)]))
            client.cp.CreateSnapshot(cpb.CreateSnapshotRequest(volume_id=vid))
    finally:
        client.close()
        server.stop()
    return data_dir, client.token


def damaged_copy(pristine, tmp_path, flip) -> str:
    data_dir, _ = pristine
    copy = tmp_path / "copy"
    shutil.copytree(data_dir, copy)
    db = copy / "manifest.db"
    raw = bytearray(db.read_bytes())
    flip(raw)
    db.write_bytes(bytes(raw))
    return copy


def every_call(client: Client) -> list[tuple[str, object]]:
    """(name, thunk) for the reads a client can make without knowing any id."""
    calls = [("ListVolumes", lambda: client.cp.ListVolumes(cpb.ListVolumesRequest())),
             ("ListSnapshots", lambda: client.cp.ListSnapshots(cpb.ListSnapshotsRequest()))]
    return calls


def outcomes(client: Client) -> list[tuple[str, grpc.StatusCode, str]]:
    """Runs every call, then every per-object call on what the lists still show."""
    seen = []

    def run(name, thunk):
        try:
            result = thunk()
            if hasattr(result, "__next__"):
                result = list(result)
            seen.append((name, grpc.StatusCode.OK, ""))
            return result
        except grpc.RpcError as err:
            assert err.code() not in (grpc.StatusCode.UNKNOWN,), \
                f"{name}: UNKNOWN {err.details()!r}"
            reason = error_info(err).reason
            assert "manifest.db" not in (err.details() or ""), err.details()
            seen.append((name, err.code(), reason))
            return None

    for name, thunk in every_call(client):
        run(name, thunk)
    listed = run("ListVolumes", lambda: client.cp.ListVolumes(cpb.ListVolumesRequest()))
    for volume in (listed.volumes if listed else []):
        vid = volume.volume_id
        run("GetVolume", lambda: client.cp.GetVolume(cpb.GetVolumeRequest(volume_id=vid)))
        run("DownloadBlocks", lambda: client.dp.DownloadBlocks(
            dpb.DownloadBlocksRequest(volume_id=vid)))
        run("ListBlocks", lambda: client.dp.ListBlocks(dpb.ListBlocksRequest(volume_id=vid)))
        run("UploadBlocks", lambda: client.dp.UploadBlocks(iter([
            target(vid), block(5 * CHUNK, os.urandom(CHUNK), CHUNK)])))
    return seen


def test_undecodable_text_is_data_loss_with_a_reason_and_verify_names_it(pristine, tmp_path):
    def flip_canary(raw: bytearray) -> None:
        at = raw.find(CANARY.encode())
        assert at >= 0, "the label is stored as plain text in the database file"
        raw[at + 3] = 0xFF                     # not UTF-8 any more

    copy = damaged_copy(pristine, tmp_path, flip_canary)
    server = serve(copy)
    client = Client(server.address, token=pristine[1])
    try:
        seen = outcomes(client)
    finally:
        client.close()
        server.stop()
    assert ("ListVolumes", grpc.StatusCode.DATA_LOSS, "MANIFEST_CORRUPT") in seen, seen
    report = json.loads(blockstore_cmd("verify", "--data-dir", str(copy), "--json",
                                       check=False).stdout)
    assert not report["ok"]
    assert any("volumes" in problem and "labels" in problem
               for problem in report["integrity"]), report["integrity"]


@pytest.mark.parametrize("seed", range(6))
def test_random_byte_flips_never_give_unknown(pristine, tmp_path, seed):
    rng = random.Random(seed)

    def flip_some(raw: bytearray) -> None:
        # Spare the 100-byte header (a server refusing to start is a fine outcome, but
        # not one that exercises the call paths) and flip bytes all over the pages.
        for _ in range(40):
            at = rng.randrange(100, len(raw))
            raw[at] ^= 1 << rng.randrange(8)

    copy = damaged_copy(pristine, tmp_path, flip_some)
    server = ServerProcess(["serve", "--data-dir", str(copy), "--listen", "127.0.0.1:0"])
    try:
        server.start(timeout=20)
    except RuntimeError as err:
        # Refusing to start is fine, with one line and exit 1: not a traceback, and not a
        # process that printed its error and then hung (its database threads were left
        # running when the damaged file failed to open).
        assert "Traceback" not in str(err), err
        assert server.proc.returncode == 1, f"exit {server.proc.returncode}: {err}"
        return
    client = Client(server.address, token=pristine[1])
    try:
        outcomes(client)
    finally:
        client.close()
        server.stop()
