"""The fixed state every hostile test runs against, and the check that it survived.

Account A (the attacker's own) holds a canary volume with known bytes (raw, zstd, zero
and partial-tail blocks), a completed snapshot of it taken before a later write, and a
second volume with a pending UPLOAD snapshot at progress 0.25. Account B (a foreign
account) holds a volume, a completed and a pending snapshot and one chunk token that A
must never be able to see or use. `World.assert_intact` proves none of it changed.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

import blake3
import grpc
import zstandard
from grpc_health.v1 import health_pb2, health_pb2_grpc

from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc as cp_grpc
from blockstore.v1 import data_plane_pb2 as dpb
from blockstore.v1 import data_plane_pb2_grpc as dp_grpc
from tests.serverproc import create_account

CHUNK = 64 << 10
SIZE = (1 << 20) + 512        # 16 full chunks and a 512-byte tail chunk
CHANNEL_OPTIONS = [("grpc.max_send_message_length", 64 << 20),
                   ("grpc.max_receive_message_length", 64 << 20)]


def b3(data: bytes) -> bytes:
    return blake3.blake3(data).digest()


class Stub:
    """A sync stub whose calls carry one account's bearer token."""

    def __init__(self, stub, token: str) -> None:
        self.stub, self.md = stub, (("authorization", f"Bearer {token}"),)

    def __getattr__(self, name):
        method = getattr(self.stub, name)
        def call(request, **kw):
            kw.setdefault("timeout", 30)
            return method(request, metadata=self.md, **kw)
        return call


def block(offset: int, data: bytes | None, length: int, zstd: bool = False
          ) -> dpb.UploadBlocksRequest:
    if data is None:
        return dpb.UploadBlocksRequest(block=dpb.UploadBlock(offset=offset, length=length,
                                                             zero=True))
    payload = zstandard.ZstdCompressor().compress(data) if zstd else data
    return dpb.UploadBlocksRequest(block=dpb.UploadBlock(
        offset=offset, length=length, checksum=b3(data), data=payload,
        compression=pb.COMPRESSION_ZSTD if zstd else pb.COMPRESSION_NONE))


def target(volume_id: str = "", snapshot_id: str = "", version: int = 0):
    t = dpb.UploadTarget(snapshot_id=snapshot_id, data_version=version) if snapshot_id \
        else dpb.UploadTarget(volume_id=volume_id, data_version=version)
    return dpb.UploadBlocksRequest(target=t)


def read_all(dp, **source) -> bytes:
    """Every byte of a volume or snapshot, each block verified against its checksum."""
    out = bytearray()
    for msg in dp.DownloadBlocks(dpb.DownloadBlocksRequest(
            accept_compression=[pb.COMPRESSION_ZSTD], **source)):
        assert msg.offset == len(out), f"blocks out of order at {msg.offset}"
        if msg.zero:
            out += bytes(msg.length)
            continue
        data = msg.data
        if msg.compression == pb.COMPRESSION_ZSTD:
            data = zstandard.ZstdDecompressor().decompress(data, max_output_size=msg.length)
        assert len(data) == msg.length and b3(data) == msg.checksum
        out += data
    return bytes(out)


def listing(dp, **source) -> list[tuple[int, bytes, bool]]:
    out, token = [], ""
    while True:
        page = dp.ListBlocks(dpb.ListBlocksRequest(page_token=token, **source))
        out += [(b.offset, b.token, b.zero) for b in page.blocks]
        token = page.next_page_token
        if not token:
            return out


@dataclass(repr=False)
class Side:
    """One account's stubs and the resources the suite made for it."""

    account_id: str
    token: str
    cp: Stub
    dp: Stub
    ids: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Side({self.account_id}, {self.ids})"


@dataclass
class World:
    channel: grpc.Channel = field(repr=False)
    a: Side
    b: Side
    canary: bytes = field(default=b"", repr=False)        # the canary volume's bytes now
    canary_snap: bytes = field(default=b"", repr=False)   # its completed snapshot's bytes
    lists: dict[str, list] = field(default_factory=dict, repr=False)
    a_tokens: list[bytes] = field(default_factory=list, repr=False)
    b_token: bytes = field(default=b"", repr=False)

    # --- what A may name ----------------------------------------------------------------
    @property
    def foreign_volumes(self) -> list[str]:
        return [self.b.ids["volume"]]

    @property
    def foreign_snapshots(self) -> list[str]:
        return [self.b.ids["snapshot"], self.b.ids["pending"]]

    def assert_intact(self) -> None:
        health = health_pb2_grpc.HealthStub(self.channel).Check(
            health_pb2.HealthCheckRequest(), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING, "server not serving"
        a, b = self.a, self.b
        assert read_all(a.dp, volume_id=a.ids["canary"]) == self.canary, \
            "canary volume must read back byte-identical"
        assert read_all(a.dp, snapshot_id=a.ids["canary_snap"]) == self.canary_snap, \
            "completed snapshot must read back byte-identical"
        for name, source in self._sources():
            assert listing(source[0].dp, **source[1]) == self.lists[name], \
                f"ListBlocks of {name} must be unchanged"
        pending = a.cp.GetSnapshot(cpb.GetSnapshotRequest(snapshot_id=a.ids["pending"]))
        assert pending.snapshot.state == pb.SNAPSHOT_STATE_PENDING
        assert pending.snapshot.progress == 0.25, "pending snapshot's progress unchanged"
        b.cp.GetVolume(cpb.GetVolumeRequest(volume_id=b.ids["volume"]))
        for key in ("snapshot", "pending"):
            b.cp.GetSnapshot(cpb.GetSnapshotRequest(snapshot_id=b.ids[key]))
        assert b.cp.GetSnapshot(cpb.GetSnapshotRequest(
            snapshot_id=b.ids["pending"])).snapshot.progress == 0.0

    def _sources(self):
        a, b = self.a, self.b
        return [("canary", (a, {"volume_id": a.ids["canary"]})),
                ("canary_snap", (a, {"snapshot_id": a.ids["canary_snap"]})),
                ("pending", (a, {"snapshot_id": a.ids["pending"]})),
                ("foreign", (b, {"volume_id": b.ids["volume"]}))]

    def record(self) -> None:
        for name, (side, source) in self._sources():
            self.lists[name] = listing(side.dp, **source)


def _side(channel: grpc.Channel, data_dir) -> Side:
    acct = create_account(f"hostile-{uuid.uuid4().hex[:8]}", data_dir=data_dir)
    return Side(acct["account_id"], acct["token"],
                Stub(cp_grpc.ControlPlaneServiceStub(channel), acct["token"]),
                Stub(dp_grpc.DataPlaneServiceStub(channel), acct["token"]))


def _volume(side: Side, size: int = SIZE) -> str:
    return side.cp.CreateVolume(cpb.CreateVolumeRequest(size_bytes=size, chunk_size=CHUNK)
                                ).volume.volume_id


def _snapshot(side: Side, volume_id: str, mode=pb.SNAPSHOT_MODE_POINT_IN_TIME):
    return side.cp.CreateSnapshot(cpb.CreateSnapshotRequest(volume_id=volume_id, mode=mode)
                                  ).snapshot


def build_world(address: str, data_dir) -> World:
    channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
    world = World(channel, _side(channel, data_dir), _side(channel, data_dir))
    a, b = world.a, world.b
    image = bytearray(SIZE)
    raw, text, tail = os.urandom(CHUNK), (b"canary " * CHUNK)[:CHUNK], os.urandom(512)
    a.ids["canary"] = _volume(a)
    a.dp.UploadBlocks(iter([target(a.ids["canary"]), block(0, raw, CHUNK),
                            block(CHUNK, text, CHUNK, zstd=True), block(2 * CHUNK, None, CHUNK),
                            block(16 * CHUNK, tail, 512)]))
    image[0:CHUNK], image[CHUNK:2 * CHUNK], image[16 * CHUNK:] = raw, text, tail
    canary_snap = _snapshot(a, a.ids["canary"])
    a.ids["canary_snap"], a.ids["canary_open"] = canary_snap.snapshot_id, str(
        canary_snap.version + 1)
    world.canary_snap = bytes(image)
    later = os.urandom(CHUNK)
    a.dp.UploadBlocks(iter([target(a.ids["canary"]), block(5 * CHUNK, later, CHUNK)]))
    image[5 * CHUNK:6 * CHUNK] = later
    world.canary = bytes(image)
    world.a_tokens = [b3(raw), b3(text), b3(tail), b3(later)]
    a.ids["pending_volume"] = _volume(a)
    pending = _snapshot(a, a.ids["pending_volume"], pb.SNAPSHOT_MODE_UPLOAD)
    a.ids["pending"], a.ids["pending_version"] = pending.snapshot_id, str(pending.version)
    a.cp.ReportSnapshotProgress(cpb.ReportSnapshotProgressRequest(
        snapshot_id=pending.snapshot_id, progress=0.25))

    secret = os.urandom(CHUNK)
    b.ids["volume"] = _volume(b)
    b.dp.UploadBlocks(iter([target(b.ids["volume"]), block(0, secret, CHUNK)]))
    world.b_token = b3(secret)
    b.ids["snapshot"] = _snapshot(b, b.ids["volume"]).snapshot_id
    b.ids["pending"] = _snapshot(b, b.ids["volume"], pb.SNAPSHOT_MODE_UPLOAD).snapshot_id
    world.record()
    return world
