"""Snapshots shared with the caller, through EBS direct (boto3 against a real server).

Export control is the gRPC rule (docs/sharing.md): a grantee reads a shared snapshot out
(ListSnapshotBlocks, ListChangedBlocks, GetSnapshotBlock) only if it was shared with
allow_export; without it, and for the grantee's clones of it and their snapshots, the
read is AccessDeniedException (403). A snapshot of another account that is not shared
with the caller (never, or no longer) answers exactly as a missing one does:
ResourceNotFoundException, so its existence does not leak. Nobody but the owner changes
a snapshot: a put or completion of a shared one is AccessDeniedException too.
"""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from blockstore.v1 import control_plane_pb2 as cpb
from tests.ebs.conftest import BLOCK, all_blocks, all_changes, get, put

MISSING = "snap-" + "0" * 24


def boto3_ebs(server, account: dict):
    session = boto3.session.Session(aws_access_key_id=account["access_key_id"],
                                    aws_secret_access_key=account["secret_access_key"],
                                    region_name="us-east-1")
    return session.client("ebs", endpoint_url=server.ebs, config=Config(
        retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60))


def owner_chain(ebs) -> tuple[str, str, dict[int, bytes], dict[int, bytes]]:
    """A parent snapshot (blocks 0, 2 and zeros at 5) and a child that changes 2 and adds 7."""
    first = {0: os.urandom(BLOCK), 2: os.urandom(BLOCK), 5: bytes(BLOCK)}
    parent = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    for i, data in first.items():
        put(ebs, parent, i, data)
    ebs.complete_snapshot(SnapshotId=parent, ChangedBlocksCount=len(first))
    second = {2: os.urandom(BLOCK), 7: os.urandom(BLOCK)}
    child = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=parent)["SnapshotId"]
    for i, data in second.items():
        put(ebs, child, i, data)
    ebs.complete_snapshot(SnapshotId=child, ChangedBlocksCount=len(second))
    return parent, child, first, {**first, **second}


async def share(cp, snapshot_id: str, account_id: str, allow_export: bool) -> None:
    await cp.ShareSnapshot(cpb.ShareSnapshotRequest(
        snapshot_id=snapshot_id, account_id=account_id, allow_export=allow_export))


def refusal(call) -> tuple[int, str, str | None, str]:
    with pytest.raises(ClientError) as err:
        call()
    r = err.value.response
    return (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r.get("Reason"),
            r["Error"]["Message"])


def reads(ebs, sid: str, token: str, first: str = "") -> dict:
    """Every EBS read-out of snapshot `sid` (block 0 with `token`)."""
    return {"list": lambda: ebs.list_snapshot_blocks(SnapshotId=sid),
            "changed": lambda: ebs.list_changed_blocks(
                SecondSnapshotId=sid, **({"FirstSnapshotId": first} if first else {})),
            "get": lambda: get(ebs, sid, 0, token)}


async def test_a_snapshot_shared_with_export_is_read_out_by_the_grantee(
        server, cp, account, other_account):
    owner, grantee = boto3_ebs(server, account), boto3_ebs(server, other_account)
    parent, child, first, both = owner_chain(owner)
    for sid in (parent, child):
        await share(cp, sid, other_account["account_id"], allow_export=True)
    listed = all_blocks(grantee, child)
    assert listed == all_blocks(owner, child), "the grantee lists what the owner lists"
    assert sorted(listed) == sorted(both)
    for i, data in both.items():
        assert get(grantee, child, i, listed[i])[0] == data, f"block {i} read back"
    changes = all_changes(grantee, child, parent)
    assert sorted(changes) == [2, 7], "changes between two shared snapshots"
    assert changes[7][0] is None and changes[2][0] == all_blocks(grantee, parent)[2]
    assert sorted(all_changes(grantee, parent)) == sorted(first)


async def test_without_export_every_read_out_is_access_denied(
        server, cp, other_cp, account, other_account):
    owner, grantee = boto3_ebs(server, account), boto3_ebs(server, other_account)
    parent, child, _, _ = owner_chain(owner)
    for sid in (parent, child):
        await share(cp, sid, other_account["account_id"], allow_export=False)
    token = all_blocks(owner, child)[0]
    calls = {**reads(grantee, child, token),
             "changed-pair": lambda: grantee.list_changed_blocks(
                 FirstSnapshotId=parent, SecondSnapshotId=child)}
    for name, call in calls.items():
        status, code, reason, message = refusal(call)
        assert (status, code, reason) == (403, "AccessDeniedException", "UNAUTHORIZED_ACCOUNT"), \
            f"{name} of a snapshot shared without export"
        assert child in message and "export" in message, message
    # The grantee may clone it inside the service; what it makes of it stays unexportable.
    clone = (await other_cp.CreateVolume(cpb.CreateVolumeRequest(
        source_snapshot_id=child))).volume
    own = (await other_cp.CreateSnapshot(cpb.CreateSnapshotRequest(
        volume_id=clone.volume_id))).snapshot
    for name, call in reads(grantee, own.snapshot_id, token).items():
        status, code, reason, message = refusal(call)
        assert (status, code) == (403, "AccessDeniedException"), \
            f"{name} of the grantee's own snapshot of a clone of unexportable data"
        assert "export" in message, message


async def test_a_snapshot_not_shared_with_the_caller_is_indistinguishable_from_a_missing_one(
        server, cp, account, other_account):
    owner, stranger = boto3_ebs(server, account), boto3_ebs(server, other_account)
    parent, child, _, _ = owner_chain(owner)
    token = all_blocks(owner, child)[0]
    await share(cp, child, other_account["account_id"], allow_export=True)
    assert sorted(all_blocks(stranger, child)) == [0, 2, 5, 7], "shared: readable"
    await cp.UnshareSnapshot(cpb.UnshareSnapshotRequest(
        snapshot_id=child, account_id=other_account["account_id"]))
    for sid in (parent, child):          # never shared; shared, then no longer
        for name, call in reads(stranger, sid, token).items():
            missing = refusal(reads(stranger, MISSING, token)[name])
            status, code, reason, message = refusal(call)
            assert (status, code, reason) == missing[:3] == \
                (404, "ResourceNotFoundException", "SNAPSHOT_NOT_FOUND"), f"{name} of {sid}"
            assert message.replace(sid, MISSING) == missing[3], \
                "the message says nothing a missing snapshot's does not"


async def test_nobody_but_the_owner_changes_a_shared_snapshot(
        server, cp, account, other_account):
    owner, grantee = boto3_ebs(server, account), boto3_ebs(server, other_account)
    parent, child, _, _ = owner_chain(owner)
    pending = owner.start_snapshot(VolumeSize=1, ParentSnapshotId=child)["SnapshotId"]
    await share(cp, child, other_account["account_id"], allow_export=True)
    calls = {"put": lambda: put(grantee, child, 9, os.urandom(BLOCK)),
             "complete": lambda: grantee.complete_snapshot(SnapshotId=child,
                                                           ChangedBlocksCount=0)}
    for name, call in calls.items():
        status, code, _, message = refusal(call)
        assert (status, code) == (403, "AccessDeniedException"), name
        assert child in message, message
    assert sorted(all_blocks(owner, child)) == [0, 2, 5, 7], "nothing was written"
    assert owner.list_snapshot_blocks(SnapshotId=pending)["Blocks"], "the owner's own works"


@pytest.mark.parametrize("allow_export", [True, False])
async def test_a_shared_snapshot_is_a_parent_for_the_grantees_own_incremental_snapshot(
        server, cp, account, other_account, allow_export):
    owner, grantee = boto3_ebs(server, account), boto3_ebs(server, other_account)
    _, golden, _, image = owner_chain(owner)
    owners_tokens = all_blocks(owner, golden)
    await share(cp, golden, other_account["account_id"], allow_export=allow_export)
    mine = grantee.start_snapshot(VolumeSize=1, ParentSnapshotId=golden)
    assert mine["ParentSnapshotId"] == golden and mine["OwnerId"] == other_account["account_id"]
    sid, new = mine["SnapshotId"], os.urandom(BLOCK)
    put(grantee, sid, 3, new)
    assert grantee.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=1)["Status"] == \
        "completed"
    assert all_blocks(owner, golden) == owners_tokens, "the owner's snapshot is unchanged"
    if not allow_export:       # used inside the service; what it holds is never read out
        for name, call in reads(grantee, sid, owners_tokens[0], first=golden).items():
            assert refusal(call)[:2] == (403, "AccessDeniedException"), name
        return
    listed = all_blocks(grantee, sid)
    assert sorted(listed) == sorted({**image, 3: new}), "the parent's blocks and its own"
    assert get(grantee, sid, 0, listed[0])[0] == image[0], "a block inherited from the parent"
    assert get(grantee, sid, 3, listed[3])[0] == new
    assert all_changes(grantee, sid, golden) == {3: (None, listed[3])}, \
        "changed against the shared parent: only its own block"
