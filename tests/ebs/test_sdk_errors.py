"""Errors as the SDKs expect them: boto3 raises its modelled exception class for each
EBS error the facade returns, and its retry logic retries what is retryable
(RequestThrottledException) and nothing else. A server whose limits are tiny makes the
limits bite: one pending snapshot per account, and more free space required than any
disk has (so a put is refused for space)."""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.config import Config

from tests.ebs.conftest import BLOCK, ebs_endpoint, sha
from tests.serverproc import create_account, serve


@pytest.fixture(scope="module")
def tight(tmp_path_factory):
    proc = serve(tmp_path_factory.mktemp("tight"), "--ebs-listen", "127.0.0.1:0",
                 "--max-pending-snapshots-per-account", "1", "--min-free", "1000P")
    proc.ebs = ebs_endpoint(proc)
    yield proc
    proc.stop()


def sdk(server, keys: dict, attempts: int):
    return boto3.session.Session().client(
        "ebs", endpoint_url=server.ebs, region_name="us-east-1",
        aws_access_key_id=keys["access_key_id"],
        aws_secret_access_key=keys["secret_access_key"],
        config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}))


def test_throttling_is_retried_and_raised_as_its_class(tight):
    ebs = sdk(tight, create_account("sdk-throttle", db=tight.db_url), attempts=2)
    first = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    with pytest.raises(ebs.exceptions.RequestThrottledException) as err:
        ebs.start_snapshot(VolumeSize=1)                 # a second pending snapshot
    assert err.value.response["Reason"] == "ACCOUNT_THROTTLED"
    assert err.value.response["ResponseMetadata"]["RetryAttempts"] == 1, \
        "boto3's standard retry mode retried the throttled call"
    ebs.complete_snapshot(SnapshotId=first, ChangedBlocksCount=0)
    assert ebs.start_snapshot(VolumeSize=1)["Status"] == "pending", "room again"


def test_each_error_is_its_modelled_class_and_not_retried(tight):
    keys = create_account("sdk-classes", db=tight.db_url)
    ebs = sdk(tight, keys, attempts=3)
    sid = ebs.start_snapshot(VolumeSize=1, ClientToken="once")["SnapshotId"]
    data = os.urandom(BLOCK)
    forged = sdk(tight, {**keys, "secret_access_key": "x" * 40}, attempts=3)
    cases = [
        (lambda: ebs.put_snapshot_block(SnapshotId=sid, BlockIndex=0, BlockData=data,
                                        DataLength=BLOCK, Checksum=sha(data),
                                        ChecksumAlgorithm="SHA256"),
         ebs.exceptions.ServiceQuotaExceededException),      # --min-free: no room
        (lambda: ebs.list_snapshot_blocks(SnapshotId="snap-" + "0" * 24),
         ebs.exceptions.ResourceNotFoundException),
        (lambda: ebs.get_snapshot_block(SnapshotId=sid, BlockIndex=0, BlockToken="AAAA"),
         ebs.exceptions.ValidationException),
        (lambda: ebs.start_snapshot(VolumeSize=2, ClientToken="once"),
         ebs.exceptions.ConflictException),
        (lambda: forged.list_snapshot_blocks(SnapshotId=sid),
         forged.exceptions.AccessDeniedException)]   # each client has its own classes
    for call, cls in cases:
        with pytest.raises(cls) as err:
            call()
        assert err.value.response["ResponseMetadata"]["RetryAttempts"] == 0, cls.__name__
