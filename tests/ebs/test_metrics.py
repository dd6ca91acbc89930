"""EBS direct requests are counted in /metrics like RPCs: service "EBS", the operation
from our route table, and "OK" or the EBS error type (exact counts of what this test
did)."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from tests.ebs.conftest import BLOCK, client_of, ebs_client, ebs_endpoint, put
from tests.ops.test_operations import metrics_url, scrape
from tests.serverproc import create_account, serve


def ebs_rpc(method: str, code: str) -> str:
    return f'blockstore_rpc_total{{code="{code}",method="{method}",service="EBS"}}'


def test_ebs_requests_are_counted_by_operation_and_outcome(tmp_path):
    proc = serve(tmp_path, "--ebs-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0")
    try:
        proc.ebs = ebs_endpoint(proc)
        account = create_account(f"m-{uuid.uuid4().hex[:8]}", data_dir=tmp_path)
        ebs = client_of(proc, account)
        sid = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
        put(ebs, sid, 0, b"m" * BLOCK)
        put(ebs, sid, 1, b"n" * BLOCK)
        with pytest.raises(ClientError):
            ebs.list_snapshot_blocks(SnapshotId="snap-" + "0" * 24)
        with pytest.raises(ClientError):
            ebs_client(proc.ebs, account["access_key_id"], "wrong").start_snapshot(VolumeSize=1)
        got = scrape(metrics_url(proc))
        assert got[ebs_rpc("StartSnapshot", "OK")] == 1
        assert got[ebs_rpc("PutSnapshotBlock", "OK")] == 2
        assert got[ebs_rpc("ListSnapshotBlocks", "ResourceNotFoundException")] == 1
        assert got[ebs_rpc("StartSnapshot", "AccessDeniedException")] == 1
    finally:
        proc.stop()
