"""Bearer tokens never reach the server's output, even at --log-level DEBUG: not the
valid ones used for every kind of call (including failing ones), not invalid ones, not
malformed headers. The account exists before the first start, so no first-start banner
(which shows a new token once, by design) is printed either. Both log formats: the json
one carries the per-RPC figures as fields (services/rpclog.py)."""

from __future__ import annotations

import os
import secrets

import grpc
import pytest

from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc as cp_grpc
from blockstore.v1 import data_plane_pb2 as dpb
from blockstore.v1 import data_plane_pb2_grpc as dp_grpc
from services.auth import token_hash
from tests.hostile.world import CHUNK, Stub, block, read_all, target
from tests.serverproc import ServerProcess, create_account


def exercise(address: str, token: str) -> None:
    """Successful and failing calls of both planes with a valid token."""
    channel = grpc.insecure_channel(address)
    cp = Stub(cp_grpc.ControlPlaneServiceStub(channel), token)
    dp = Stub(dp_grpc.DataPlaneServiceStub(channel), token)
    vid = cp.CreateVolume(cpb.CreateVolumeRequest(size_bytes=1 << 20, chunk_size=CHUNK)
                          ).volume.volume_id
    dp.UploadBlocks(iter([target(vid), block(0, os.urandom(CHUNK), CHUNK)]))
    read_all(dp, volume_id=vid)
    cp.CreateSnapshot(cpb.CreateSnapshotRequest(volume_id=vid))
    for bad in (lambda: cp.GetVolume(cpb.GetVolumeRequest(volume_id="vol-nope")),
                lambda: dp.UploadBlocks(iter([target(vid), block(3, b"x", CHUNK)])),
                lambda: dp.FindMissingChunks(dpb.FindMissingChunksRequest(tokens=[b"x"]))):
        try:
            bad()
        except grpc.RpcError:
            pass
    channel.close()


def knock(address: str, headers: list[str]) -> None:
    channel = grpc.insecure_channel(address)
    stub = cp_grpc.ControlPlaneServiceStub(channel)
    for header in headers:
        try:
            stub.ListVolumes(cpb.ListVolumesRequest(), timeout=5,
                             metadata=(("authorization", header),))
            raise AssertionError(f"header {header!r} was accepted")
        except grpc.RpcError as err:
            assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    channel.close()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_tokens_never_appear_in_server_output(tmp_path, log_format):
    account = create_account("logged", data_dir=tmp_path)
    proc = ServerProcess(["serve", "--data-dir", str(tmp_path), "--listen", "127.0.0.1:0",
                          "--log-level", "DEBUG", "--log-format", log_format]).start()
    wrong = "bst_" + secrets.token_urlsafe(32)
    odd = secrets.token_hex(24)
    try:
        exercise(proc.address, account["token"])
        knock(proc.address, [f"Bearer {wrong}", f"bearer {odd}", f"Basic {odd}", odd,
                             f"Bearer {account['token']}x", "Bearer "])
    finally:
        proc.stop()
    log = "".join(proc.output)
    assert "DEBUG" in log, "the server did log at DEBUG (else this test proves nothing)"
    assert "UploadBlocks" in log and account["account_id"] in log and \
        "UNAUTHENTICATED" in log, "every call was logged, refused ones too, with its account"
    for secret in (account["token"], wrong, odd, account["token"][4:20]):
        assert secret not in log, f"a token ({secret[:8]}...) appears in the server output"
    assert "bst_" not in log, "something token-shaped appears in the server output"
    digest = token_hash(account["token"])
    assert digest.hex() not in log and repr(digest)[2:-1] not in log, \
        "the stored token hash appears in the server output"
