"""Snapshot sharing and export control over real gRPC: the owner shares a COMPLETED
snapshot with another account; the grantee sees and clones it, reads it out only with
allow_export, never changes it, and learns nothing about the owner's chunks."""

from __future__ import annotations

import asyncio
import json
import uuid

import grpc

from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import data_plane_pb2 as dpb
from tests.data_plane.helpers import (CHUNK, MIB, UPLOAD, Ref, Vol, b3, clone, get_snapshot,
                                      list_blocks, list_changes, missing, new_volume, rand,
                                      read, snapshot, stream, upload)
from tests.gc.helpers import gc_cli, verify_cli
from tests.rpcerrors import expect_error
from tests.serverproc import blockstore_cmd, create_account

DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION


async def share(cp, snapshot_id: str, account_id: str, allow_export: bool = True):
    return (await cp.ShareSnapshot(cpb.ShareSnapshotRequest(
        snapshot_id=snapshot_id, account_id=account_id, allow_export=allow_export))).share


async def shared_ids(cp) -> list[str]:
    reply = await cp.ListSnapshots(cpb.ListSnapshotsRequest(shared_with_me=True))
    return [s.snapshot_id for s in reply.snapshots]


async def owner_snapshot(cp, dp) -> tuple[Vol, object]:
    vol = await new_volume(cp, size=MIB)
    await upload(dp, vol, [(0, rand(CHUNK)), (3 * CHUNK, rand(CHUNK)), (4 * CHUNK, None)])
    return vol, await snapshot(cp, vol.volume_id)


async def test_grantee_with_export_gets_lists_clones_and_reads_out(cp, dp, other_cp, other_dp,
                                                                   account, other_account):
    vol, snap = await owner_snapshot(cp, dp)
    granted = await share(cp, snap.snapshot_id, other_account["account_id"])
    assert (granted.account_id, granted.allow_export) == (other_account["account_id"], True)
    seen = await get_snapshot(other_cp, snap.snapshot_id)
    assert seen.owner_account_id == account["account_id"], "the owner is named"
    assert (await get_snapshot(cp, snap.snapshot_id)).owner_account_id == account["account_id"]
    assert await shared_ids(other_cp) == [snap.snapshot_id]
    own = await other_cp.ListSnapshots(cpb.ListSnapshotsRequest())
    assert snap.snapshot_id not in [s.snapshot_id for s in own.snapshots], \
        "a shared snapshot is not listed among the grantee's own"
    assert await shared_ids(cp) == [], "nothing is shared with the owner"
    assert await read(other_dp, snapshot_id=snap.snapshot_id) == bytes(vol.image)
    assert await list_blocks(other_dp, snapshot_id=snap.snapshot_id) == \
        await list_blocks(dp, snapshot_id=snap.snapshot_id)
    assert len(await list_changes(other_dp, snap.snapshot_id)) == 3
    c = await clone(other_cp, snap.snapshot_id)
    assert await read(other_dp, volume_id=c.volume_id) == bytes(vol.image), \
        "the grantee's clone reads the owner's data"
    shares = (await cp.ListSnapshotShares(cpb.ListSnapshotSharesRequest(
        snapshot_id=snap.snapshot_id))).shares
    assert [(s.account_id, s.allow_export) for s in shares] == \
        [(other_account["account_id"], True)]


async def test_without_export_the_data_never_leaves_through_the_grantee(cp, dp, other_cp,
                                                                        other_dp, account,
                                                                        other_account):
    vol, snap = await owner_snapshot(cp, dp)
    await share(cp, snap.snapshot_id, other_account["account_id"], allow_export=False)
    sid = snap.snapshot_id
    assert (await get_snapshot(other_cp, sid)).snapshot_id == sid, "usable: visible"
    readouts = [
        other_dp.DownloadBlocks(dpb.DownloadBlocksRequest(snapshot_id=sid)).read(),
        other_dp.ListBlocks(dpb.ListBlocksRequest(snapshot_id=sid)),
        other_dp.ListChangedBlocks(dpb.ListChangedBlocksRequest(target_snapshot_id=sid))]
    for call in readouts:
        await expect_error(call, DENIED, "EXPORT_NOT_ALLOWED", names=sid)
    c = await clone(other_cp, sid)
    cvol = Vol(c.volume_id, c.size_bytes, c.chunk_size)
    await upload(other_dp, cvol, [(CHUNK, rand(CHUNK))])
    cs = await snapshot(other_cp, c.volume_id)
    c2 = await clone(other_cp, cs.snapshot_id)
    for name, request in (
            (c.volume_id, dpb.DownloadBlocksRequest(volume_id=c.volume_id)),
            (cs.snapshot_id, dpb.DownloadBlocksRequest(snapshot_id=cs.snapshot_id)),
            (c2.volume_id, dpb.DownloadBlocksRequest(volume_id=c2.volume_id))):
        await expect_error(other_dp.DownloadBlocks(request).read(), DENIED,
                           "EXPORT_NOT_ALLOWED", names=name)
    await expect_error(other_dp.ListBlocks(dpb.ListBlocksRequest(volume_id=c.volume_id)),
                       DENIED, "EXPORT_NOT_ALLOWED")
    await expect_error(other_dp.ListChangedBlocks(dpb.ListChangedBlocksRequest(
        base_snapshot_id=sid, target_snapshot_id=cs.snapshot_id)), DENIED, "EXPORT_NOT_ALLOWED")
    await expect_error(share(other_cp, cs.snapshot_id, account["account_id"], True), DENIED,
                       "EXPORT_NOT_ALLOWED", names=cs.snapshot_id)
    onward = await share(other_cp, cs.snapshot_id, account["account_id"], False)
    assert onward.allow_export is False, "it may be passed on for use inside the service"
    assert await read(dp, snapshot_id=sid) == bytes(vol.image), "the owner still reads it"


async def test_grantee_can_never_change_the_owners_snapshot(server, cp, dp, other_cp, other_dp,
                                                            other_account):
    vol, snap = await owner_snapshot(cp, dp)
    up = await snapshot(cp, vol.volume_id, mode=UPLOAD)
    sid = snap.snapshot_id
    await share(cp, sid, other_account["account_id"])
    third = create_account(f"third-{uuid.uuid4().hex[:8]}", db=server.db_url)
    calls = [
        other_cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=sid)),
        other_cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=sid, allow_missing=True)),
        share(other_cp, sid, third["account_id"]),
        other_cp.UnshareSnapshot(cpb.UnshareSnapshotRequest(
            snapshot_id=sid, account_id=other_account["account_id"])),
        other_cp.ListSnapshotShares(cpb.ListSnapshotSharesRequest(snapshot_id=sid)),
        other_cp.ReportSnapshotProgress(cpb.ReportSnapshotProgressRequest(
            snapshot_id=sid, progress=1.0)),
        other_dp.UploadBlocks(iter(stream(vol, [(0, rand(CHUNK))], snapshot_id=sid,
                                          data_version=snap.version)))]
    for call in calls:
        await expect_error(call, DENIED, "NOT_OWNER", names=sid)
    await expect_error(other_dp.UploadBlocks(iter(stream(
        vol, [(0, rand(CHUNK))], snapshot_id=up.snapshot_id, data_version=up.version))),
        NOT_FOUND, "INVALID_SNAPSHOT_ID", names=up.snapshot_id)
    assert await read(dp, snapshot_id=sid) == bytes(vol.image)


async def test_grantee_gets_no_dedup_information_about_the_owners_chunks(
        server, cp, dp, other_cp, other_dp, other_account):
    vol, snap = await owner_snapshot(cp, dp)
    await share(cp, snap.snapshot_id, other_account["account_id"])
    owner_chunk = bytes(vol.image[:CHUNK])
    assert await missing(other_dp, [b3(owner_chunk)]) == [b3(owner_chunk)], \
        "sharing puts nothing in the grantee's chunk set"
    c = await clone(other_cp, snap.snapshot_id)
    cvol = Vol(c.volume_id, c.size_bytes, c.chunk_size, bytearray(vol.image))
    await expect_error(other_dp.UploadBlocks(iter(stream(cvol, [(CHUNK, Ref(b3(owner_chunk)))]))),
                       PRECONDITION, "UNKNOWN_CHUNK_TOKEN")
    guess = await upload(other_dp, cvol, [(CHUNK, owner_chunk)])
    fresh = await upload(other_dp, cvol, [(2 * CHUNK, rand(CHUNK))])
    assert (guess.dedup_hits, guess.bytes_stored) == (0, CHUNK) == \
        (fresh.dedup_hits, fresh.bytes_stored), \
        "uploading the owner's data tells the grantee nothing a new chunk would not"


async def test_share_errors_name_their_object(cp, dp, other_cp, account, other_account):
    vol, snap = await owner_snapshot(cp, dp)
    await expect_error(share(cp, snap.snapshot_id, "acct-nosuchaccount"), NOT_FOUND,
                       "INVALID_ACCOUNT_ID", names="acct-nosuchaccount")
    await expect_error(share(cp, snap.snapshot_id, ""), NOT_FOUND, "INVALID_ACCOUNT_ID")
    await expect_error(share(cp, snap.snapshot_id, account["account_id"]),
                       grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT",
                       names=snap.snapshot_id)
    up = await snapshot(cp, vol.volume_id, mode=UPLOAD)
    await expect_error(share(cp, up.snapshot_id, other_account["account_id"]), PRECONDITION,
                       "SNAPSHOT_NOT_COMPLETE", names=up.snapshot_id)
    await expect_error(share(cp, "snap-missing", other_account["account_id"]), NOT_FOUND,
                       "INVALID_SNAPSHOT_ID", names="snap-missing")
    for call in (get_snapshot(other_cp, snap.snapshot_id), clone(other_cp, snap.snapshot_id),
                 share(other_cp, snap.snapshot_id, account["account_id"])):
        await expect_error(call, NOT_FOUND, "INVALID_SNAPSHOT_ID", names=snap.snapshot_id)
    assert await shared_ids(other_cp) == [], "an unshared snapshot is invisible"


async def test_unshare_stops_new_use_clones_survive_and_gc_keeps_them(
        server, cp, dp, other_cp, other_dp, other_account):
    vol, snap = await owner_snapshot(cp, dp)
    sid = snap.snapshot_id
    await share(cp, sid, other_account["account_id"], allow_export=False)
    again = await share(cp, sid, other_account["account_id"], allow_export=True)
    assert again.allow_export, "sharing again replaces allow_export"
    c = await clone(other_cp, sid)
    await cp.UnshareSnapshot(cpb.UnshareSnapshotRequest(
        snapshot_id=sid, account_id=other_account["account_id"]))
    assert await shared_ids(other_cp) == []
    for call in (get_snapshot(other_cp, sid), clone(other_cp, sid),
                 other_dp.ListBlocks(dpb.ListBlocksRequest(snapshot_id=sid))):
        await expect_error(call, NOT_FOUND, "INVALID_SNAPSHOT_ID", names=sid)
    await expect_error(cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=sid)),
                       PRECONDITION, "SNAPSHOT_HAS_DEPENDENT_VOLUMES", names=sid)
    await upload(dp, vol, [(0, rand(CHUNK)), (3 * CHUNK, rand(CHUNK))])
    await cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=vol.volume_id))
    expected = await read(other_dp, volume_id=c.volume_id)
    await asyncio.to_thread(gc_cli, server.data_dir, 0, server.db_url)
    assert await read(other_dp, volume_id=c.volume_id) == expected, \
        "GC never frees what a grantee's clone reads, after unshare and the owner's delete"
    assert (await asyncio.to_thread(verify_cli, server.data_dir, server.db_url))[0] == 0
    await other_cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=c.volume_id))
    await expect_error(cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=sid)),
                       PRECONDITION, "SNAPSHOT_HAS_DEPENDENT_VOLUMES", names=sid)
    listed = await other_cp.ListSnapshots(cpb.ListSnapshotsRequest(volume_id=c.volume_id))
    for s in listed.snapshots:    # the clone's initial snapshot still reads through
        await other_cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=s.snapshot_id))
    await cp.DeleteSnapshot(cpb.DeleteSnapshotRequest(snapshot_id=sid))


def test_account_list_shows_ids_and_names(server, account, other_account):
    listed = json.loads(blockstore_cmd("account", "list", "--db", server.db_url,
                                       "--json").stdout)
    ids = {a["account_id"]: a["name"] for a in listed}
    assert account["account_id"] in ids and other_account["account_id"] in ids
    assert all(set(a) == {"account_id", "name", "created_at"} for a in listed), \
        "ids and names only, never tokens"
    table = blockstore_cmd("account", "list", "--db", server.db_url).stdout
    assert account["account_id"] in table and "ACCOUNT ID" in table
