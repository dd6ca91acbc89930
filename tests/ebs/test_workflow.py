"""The whole EBS direct workflow as an EBS tool runs it, with the real clients only:
boto3's `ebs` client (puts from several threads), then the AWS CLI (`aws ebs ...`, PyPI
awscli) reading the same snapshot. Both point at the facade on loopback; the CLI gets its
keys, region and "no metadata service, no config files" through its own environment."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.ebs.conftest import BLOCK, aws_cli, sha

BLOCKS = 64
THREADS = 8


def boto3_ebs(server, key_id: str, secret: str):
    session = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret,
                                    region_name="eu-west-1")
    return session.client("ebs", endpoint_url=server.ebs, config=Config(
        retries={"max_attempts": 1, "mode": "standard"}, read_timeout=60))


def linear(blocks: dict[int, bytes]) -> str:
    total = hashlib.sha256()
    for i in sorted(blocks):
        total.update(hashlib.sha256(blocks[i]).digest())
    return base64.b64encode(total.digest()).decode()


def put(ebs, sid: str, index: int, data: bytes, checksum: str | None = None) -> dict:
    return ebs.put_snapshot_block(SnapshotId=sid, BlockIndex=index, BlockData=data,
                                  DataLength=len(data), Checksum=checksum or sha(data),
                                  ChecksumAlgorithm="SHA256", Progress=50)


def listed(ebs, sid: str) -> dict[int, str]:
    found, token = {}, {}
    while True:
        page = ebs.list_snapshot_blocks(SnapshotId=sid, MaxResults=100, **token)
        found.update({b["BlockIndex"]: b["BlockToken"] for b in page["Blocks"]})
        if "NextToken" not in page:
            return found
        token = {"NextToken": page["NextToken"]}


def error_of(call) -> tuple[str, str | None]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response.get("Reason")


def test_boto3_workflow_then_the_aws_cli_reads_the_same_snapshot(server, account,
                                                                 other_account, tmp_path):
    ebs = boto3_ebs(server, account["access_key_id"], account["secret_access_key"])
    start = ebs.start_snapshot(VolumeSize=1, ClientToken="workflow-1", Timeout=60)
    sid = start["SnapshotId"]
    assert ebs.start_snapshot(VolumeSize=1, ClientToken="workflow-1",
                              Timeout=60)["SnapshotId"] == sid, "ClientToken: same snapshot"

    # 64 distinct blocks (some repeated data, some zeros) from 8 threads, one client.
    base = {i: (os.urandom(BLOCK) if i % 8 else bytes(BLOCK)) for i in range(BLOCKS)}
    base[63] = base[1]
    with ThreadPoolExecutor(THREADS) as pool:
        replies = list(pool.map(lambda i: put(ebs, sid, i * 3, base[i]), base))
    assert [r["Checksum"] for r in replies] == [sha(base[i]) for i in base]
    written = {i * 3: data for i, data in base.items()}
    assert ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=BLOCKS,
                                 Checksum=linear(written), ChecksumAlgorithm="SHA256",
                                 ChecksumAggregationMethod="LINEAR")["Status"] == "completed"
    tokens = listed(ebs, sid)
    assert sorted(tokens) == sorted(written), "all 64 blocks listed, across pages"
    assert tokens[3] == tokens[189], "equal data, equal token"

    # A child against the parent: three blocks changed, ListChangedBlocks names them.
    child = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=sid)["SnapshotId"]
    changed = {0: os.urandom(BLOCK), 30: os.urandom(BLOCK), 1000: os.urandom(BLOCK)}
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda i: put(ebs, child, i, changed[i]), changed))
    ebs.complete_snapshot(SnapshotId=child, ChangedBlocksCount=len(changed))
    diff = ebs.list_changed_blocks(FirstSnapshotId=sid, SecondSnapshotId=child)
    assert [c["BlockIndex"] for c in diff["ChangedBlocks"]] == [0, 30, 1000]
    assert "FirstBlockToken" not in diff["ChangedBlocks"][2], "a hole in the parent"

    # Get and verify every block of both snapshots.
    child_tokens = listed(ebs, child)
    for snapshot_id, tokens_of, content in ((sid, tokens, written),
                                            (child, child_tokens, {**written, **changed})):
        assert sorted(tokens_of) == sorted(content)
        for i, data in content.items():
            reply = ebs.get_snapshot_block(SnapshotId=snapshot_id, BlockIndex=i,
                                           BlockToken=tokens_of[i])
            assert reply["BlockData"].read() == data, f"block {i} of {snapshot_id}"
            assert reply["Checksum"] == sha(data) and reply["DataLength"] == BLOCK

    # Refusals: wrong checksum, bad signature, another account's snapshot.
    open_one = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    data = os.urandom(BLOCK)
    assert error_of(lambda: put(ebs, open_one, 0, data, checksum=sha(b"other"))) == \
        ("ValidationException", "INVALID_BLOCK")
    assert listed(ebs, open_one) == {}, "the refused block was not stored"
    forged = boto3_ebs(server, account["access_key_id"], "x" * 40)
    assert error_of(lambda: forged.list_snapshot_blocks(SnapshotId=sid)) == \
        ("AccessDeniedException", "UNAUTHORIZED_ACCOUNT")
    other = boto3_ebs(server, other_account["access_key_id"],
                      other_account["secret_access_key"])
    for call in (lambda: other.list_snapshot_blocks(SnapshotId=sid),
                 lambda: other.get_snapshot_block(SnapshotId=sid, BlockIndex=3,
                                                  BlockToken=tokens[3]),
                 lambda: put(other, open_one, 0, data)):
        assert error_of(call) == ("ResourceNotFoundException", "SNAPSHOT_NOT_FOUND")

    # The AWS CLI, in its own process, lists what boto3 wrote (and from an index on).
    page = aws(server, account, tmp_path, "list-snapshot-blocks", "--snapshot-id", sid)
    assert (page["VolumeSize"], page["BlockSize"], "NextToken" in page) == (1, BLOCK, False)
    assert {b["BlockIndex"]: b["BlockToken"] for b in page["Blocks"]} == tokens
    tail = aws(server, account, tmp_path, "list-snapshot-blocks", "--snapshot-id", sid,
               "--starting-block-index", "150", "--max-results", "100")
    assert [b["BlockIndex"] for b in tail["Blocks"]] == [i for i in sorted(tokens) if i >= 150]


def aws(server, account: dict, home, operation: str, *args: str) -> dict:
    """`aws ebs OPERATION ...` against the server, its JSON reply (tests/ebs/conftest.aws_cli)."""
    done = aws_cli(server.ebs, account, home, operation, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
