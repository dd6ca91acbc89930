"""Hand-picked hostile streams and messages: oversized messages, a stream that does not
start with a target, duplicate offsets, clients that hang up mid-stream, zstd bombs,
unknown enum values, and garbage bearer tokens on every RPC."""

from __future__ import annotations

import math
import os
import struct

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc as cp_grpc
from blockstore.v1 import data_plane_pb2 as dpb
from blockstore.v1 import data_plane_pb2_grpc as dp_grpc
from tests.hostile.bad_blocks import BOMBS, raw
from tests.hostile.hostile import TALLY, failure, fuzz
from tests.hostile.world import CHUNK, SIZE, b3, block, listing, read_all, target
from tests.limits.conftest import Client, open_held, stream_over
from tests.serverproc import serve


def expect(call, code: str, reason: str) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    assert failure(caught.value) == (code, reason), caught.value.details()


@pytest.fixture(scope="module")
def lone_server(tmp_path_factory):
    """A server of its own with one upload stream per account, so that `stream_over` can
    tell when the server is done with a stream a client gave up on (tests/observe.py)."""
    proc = serve(tmp_path_factory.mktemp("lone"), "--max-upload-streams-per-account", "1")
    proc.data_dir = proc.args[proc.args.index("--data-dir") + 1]
    yield proc
    proc.stop()


@pytest.fixture
def lone(lone_server):
    """(client of a new account, its volume with one block, that volume's listing)."""
    client = Client(lone_server.address, lone_server.data_dir)
    vid = client.volume(SIZE)
    client.dp.UploadBlocks(iter([target(vid), block(0, os.urandom(CHUNK), CHUNK)]))
    yield client, vid, listing(client.dp, volume_id=vid)
    client.close()


@pytest.fixture
def scratch(world):
    """A volume of our own with one block, and the proof it never changed."""
    vid = world.a.cp.CreateVolume(cpb.CreateVolumeRequest(size_bytes=SIZE, chunk_size=CHUNK)
                                  ).volume.volume_id
    data = os.urandom(CHUNK)
    world.a.dp.UploadBlocks(iter([target(vid), block(0, data, CHUNK)]))
    before = listing(world.a.dp, volume_id=vid)
    yield vid
    assert listing(world.a.dp, volume_id=vid) == before, "scratch volume's rows changed"
    assert read_all(world.a.dp, volume_id=vid)[:CHUNK] == data


# --- oversized messages -----------------------------------------------------------------
def test_oversized_upload_message_is_refused_by_grpc(lone):
    """A 17 MiB message exceeds the 16 MiB receive limit: gRPC itself answers
    RESOURCE_EXHAUSTED before any handler sees it, and the stream commits nothing: not
    even the good block before it (gRPC ends such a stream's request iterator like a
    half-close, so this raced the commit; repeated to catch a race that lost 1 in 10)."""
    client, vid, before = lone
    huge = os.urandom(17 << 20)
    for _ in range(8):
        msgs = [target(vid), block(CHUNK, os.urandom(CHUNK), CHUNK),
                raw(2 * CHUNK, CHUNK, huge, b3(huge))]
        with pytest.raises(grpc.RpcError) as caught:
            client.dp.UploadBlocks(iter(msgs))
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        stream_over(client, vid)            # the server is done with it: a commit would show
        assert listing(client.dp, volume_id=vid) == before, "a refused stream committed"


def test_oversized_unary_message_is_refused_by_grpc(world):
    tokens = [os.urandom(32) for _ in range((17 << 20) // 34)]
    with pytest.raises(grpc.RpcError) as caught:
        world.a.dp.FindMissingChunks(dpb.FindMissingChunksRequest(tokens=tokens))
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


# --- stream shape -------------------------------------------------------------------------
def test_stream_whose_first_message_is_a_block(world, scratch):
    msgs = [block(CHUNK, os.urandom(CHUNK), CHUNK), target(scratch)]
    expect(lambda: world.a.dp.UploadBlocks(iter(msgs)), "INVALID_ARGUMENT", "INVALID_ARGUMENT")


def test_stream_with_a_second_target(world, scratch):
    msgs = [target(scratch), block(CHUNK, os.urandom(CHUNK), CHUNK), target(scratch)]
    expect(lambda: world.a.dp.UploadBlocks(iter(msgs)), "INVALID_ARGUMENT", "INVALID_ARGUMENT")


def test_empty_stream(world):
    expect(lambda: world.a.dp.UploadBlocks(iter([])), "INVALID_ARGUMENT", "INVALID_ARGUMENT")


def test_duplicate_offsets_in_one_stream(world, scratch):
    msgs = [target(scratch), block(CHUNK, os.urandom(CHUNK), CHUNK),
            block(2 * CHUNK, None, CHUNK), block(CHUNK, os.urandom(CHUNK), CHUNK)]
    with pytest.raises(grpc.RpcError) as caught:
        world.a.dp.UploadBlocks(iter(msgs))
    assert failure(caught.value) == ("INVALID_ARGUMENT", "DUPLICATE_BLOCK")


# --- clients that hang up -------------------------------------------------------------------
def test_client_hangs_up_mid_upload(lone):
    """Cancelling a stream after the server took some blocks in commits none of them."""
    client, vid, before = lone
    [stream] = open_held(client, vid, 1, blocks=5)   # never half-closes
    stream.cancel()
    with pytest.raises(grpc.FutureCancelledError):
        stream.call.result()
    stream_over(client, vid)
    assert listing(client.dp, volume_id=vid) == before, "a cancelled stream committed"


def test_client_hangs_up_mid_download(world):
    stream = world.a.dp.DownloadBlocks(dpb.DownloadBlocksRequest(
        volume_id=world.a.ids["canary"], ranges=[dpb.ByteRange(offset=0, length=SIZE)] * 50))
    next(stream)
    stream.cancel()


def test_client_deadline_mid_upload(lone):
    """A stream whose deadline expires before it half-closes commits nothing."""
    client, vid, before = lone
    [stream] = open_held(client, vid, 1, blocks=1, timeout=0.5)   # the server took it in
    assert stream.error().code() == grpc.StatusCode.DEADLINE_EXCEEDED
    stream.cancel()                                                # ends the generator
    stream_over(client, vid)
    assert listing(client.dp, volume_id=vid) == before, "an expired stream committed"


# --- zstd bombs -----------------------------------------------------------------------------
def frame_claiming(size: int) -> bytes:
    """A 16-byte zstd frame whose header claims `size` bytes (one RLE block of 64 KiB)."""
    header = b"\x28\xb5\x2f\xfd" + bytes([0xE0]) + struct.pack("<Q", size)
    block_header = (1 | (1 << 1) | (CHUNK << 3)).to_bytes(3, "little")   # last, RLE
    return header + block_header + b"\0"


@pytest.mark.parametrize("frame", [frame_claiming(1 << 40), frame_claiming((1 << 64) - 1),
                                   frame_claiming(CHUNK + 1), *BOMBS.values()],
                         ids=["claims-1TiB", "claims-2^64", "claims-chunk+1",
                              *sorted(BOMBS)])
def test_zstd_bomb(world, scratch, frame):
    """A small frame that claims or inflates to more than the block length is
    INVALID_BLOCK_DATA, decided without allocating what it claims."""
    assert len(frame) < 64 << 10
    msgs = [target(scratch), block(CHUNK, os.urandom(CHUNK), CHUNK),
            raw(2 * CHUNK, CHUNK, frame, b3(bytes(CHUNK)), pb.COMPRESSION_ZSTD)]
    expect(lambda: world.a.dp.UploadBlocks(iter(msgs)), "INVALID_ARGUMENT",
           "INVALID_BLOCK_DATA")


def test_many_bombs_at_once_leave_the_server_serving(world, scratch):
    """Eight concurrent streams of 100x bombs: all rejected, the server stays up."""
    bomb = BOMBS["unsized-100x"]
    msgs = [target(scratch)] + [raw(i * CHUNK, CHUNK, bomb, b3(bytes(CHUNK)),
                                    pb.COMPRESSION_ZSTD) for i in range(1, 15)]
    calls = [world.a.dp.stub.UploadBlocks.future(iter(msgs), metadata=world.a.dp.md)
             for _ in range(8)]
    for call in calls:
        with pytest.raises(grpc.RpcError) as caught:
            call.result(timeout=30)
        assert failure(caught.value) == ("INVALID_ARGUMENT", "INVALID_BLOCK_DATA")


# --- unknown enum values and bad floats -------------------------------------------------------
def test_unknown_snapshot_mode(world):
    expect(lambda: world.a.cp.CreateSnapshot(cpb.CreateSnapshotRequest(
        volume_id=world.a.ids["canary"], mode=99)), "INVALID_ARGUMENT", "INVALID_ARGUMENT")


def test_unknown_compression(world, scratch):
    data = os.urandom(CHUNK)
    msgs = [target(scratch), raw(CHUNK, CHUNK, data, b3(data), compression=77)]
    expect(lambda: world.a.dp.UploadBlocks(iter(msgs)), "INVALID_ARGUMENT", "INVALID_ARGUMENT")


@pytest.mark.parametrize("progress", [math.nan, math.inf, -math.inf, -0.5, 1.5, 0.1])
def test_bad_progress(world, progress):
    expect(lambda: world.a.cp.ReportSnapshotProgress(cpb.ReportSnapshotProgressRequest(
        snapshot_id=world.a.ids["pending"], progress=progress)),
        "INVALID_ARGUMENT", "INVALID_PROGRESS")


# --- garbage bearer tokens ------------------------------------------------------------------
RPCS = {
    "GetVolume": ("cp", cpb.GetVolumeRequest(volume_id="vol-x")),
    "ListVolumes": ("cp", cpb.ListVolumesRequest()),
    "CreateVolume": ("cp", cpb.CreateVolumeRequest()),
    "ListSnapshots": ("cp", cpb.ListSnapshotsRequest()),
    "FindMissingChunks": ("dp", dpb.FindMissingChunksRequest()),
    "ListBlocks": ("dp", dpb.ListBlocksRequest(volume_id="vol-x")),
}
PRINTABLE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=120)


@given(rpc=st.sampled_from(sorted(RPCS)), scheme=st.sampled_from(["Bearer", "bearer",
                                                                  "Basic", "", "Bearer  "]),
       token=PRINTABLE | st.binary(min_size=1, max_size=64).map(lambda b: b.hex()))
@fuzz(60)
def test_garbage_bearer_tokens(world, rpc, scheme, token):
    """Any header that is not a valid token is UNAUTHENTICATED/AUTHENTICATION_FAILED."""
    TALLY["(auth) any RPC"] += 1
    plane, request = RPCS[rpc]
    stubs = {"cp": cp_grpc.ControlPlaneServiceStub(world.channel),
             "dp": dp_grpc.DataPlaneServiceStub(world.channel)}
    header = f"{scheme} {token}".strip()
    with pytest.raises(grpc.RpcError) as caught:
        getattr(stubs[plane], rpc)(request, metadata=(("authorization", header),), timeout=10)
    assert failure(caught.value) == ("UNAUTHENTICATED", "AUTHENTICATION_FAILED")


# --- forged page tokens and echoed giant ids ----------------------------------------------------
def forge(after, scope: str) -> str:
    """A page token with a correct scope digest (which is no secret) and any cursor."""
    import base64
    import hashlib
    import json
    digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
    body = json.dumps({"a": after, "s": digest}).encode()
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


@pytest.mark.parametrize("after", [1 << 63, 10 ** 30, -1, -(1 << 64)], ids=str)
def test_forged_block_page_cursor(world, after):
    vid = world.a.ids["canary"]
    token = forge(after, f"blocks:volume {vid}:0")
    expect(lambda: world.a.dp.ListBlocks(dpb.ListBlocksRequest(volume_id=vid, page_token=token)),
           "INVALID_ARGUMENT", "INVALID_ARGUMENT")
    sid = world.a.ids["canary_snap"]
    token = forge(after, f"changes::{sid}")
    expect(lambda: world.a.dp.ListChangedBlocks(dpb.ListChangedBlocksRequest(
        target_snapshot_id=sid, page_token=token)), "INVALID_ARGUMENT", "INVALID_ARGUMENT")


def test_forged_volume_page_cursor_with_lone_surrogate(world):
    token = forge("\ud800", f"volumes:{world.a.account_id}")
    expect(lambda: world.a.cp.ListVolumes(cpb.ListVolumesRequest(page_token=token)),
           "INVALID_ARGUMENT", "INVALID_ARGUMENT")


@pytest.mark.parametrize("n", [5_000, 20_000, 1 << 20])
def test_giant_ids_are_not_found(world, n):
    """An id of any length is NOT_FOUND: the echoed message is clipped to fit the client's
    metadata limits (it used to arrive as RESOURCE_EXHAUSTED 'Stream removed')."""
    big = "vol-" + "\u00e9" * n
    expect(lambda: world.a.cp.GetVolume(cpb.GetVolumeRequest(volume_id=big)),
           "NOT_FOUND", "INVALID_VOLUME_ID")
    expect(lambda: world.a.dp.ListBlocks(dpb.ListBlocksRequest(snapshot_id=big)),
           "NOT_FOUND", "INVALID_SNAPSHOT_ID")
    expect(lambda: world.a.dp.UploadBlocks(iter([target(big)])), "NOT_FOUND",
           "INVALID_VOLUME_ID")
