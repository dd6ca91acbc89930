"""Another language: a Node.js client (@grpc/grpc-js + @grpc/proto-loader) loads our
.proto files as they are and drives a real `blockstore serve` over loopback."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("node_client.js")
NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_node_client_creates_lists_snapshots_shares_and_reads_error_info(server, account,
                                                                        other_account):
    assert (REPO / "node_modules" / "@grpc" / "grpc-js").is_dir(), \
        "node_modules missing: run `npm install` (scripts/test.sh does)"
    run = subprocess.run([NODE, str(SCRIPT), server.address, account["token"],
                          other_account["token"], other_account["account_id"]], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"node client failed:\n{run.stderr}\n{run.stdout}"
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["volume_id"].startswith("vol-") and result["size_bytes"] == 8 << 20
    assert result["listed"], "the volume created from Node is in ListVolumes"
    assert result["snapshot"]["volume_id"] == result["volume_id"]
    assert result["snapshot"]["version"] == 2, "the first snapshot after the initial one is 2"
    assert result["initial_snapshot_id"].startswith("snap-"), "CreateVolume's initial snapshot"
    assert result["snapshot"]["state"] == "SNAPSHOT_STATE_COMPLETED", \
        "a point-in-time snapshot completes at once"
    error = result["error"]
    assert error is not None, "GetVolume on a missing id failed"
    assert (error["code"], error["code_name"]) == (5, "NOT_FOUND"), "missing volume: NOT_FOUND"
    assert error["reason"] == "INVALID_VOLUME_ID", "Node decodes ErrorInfo.reason"
    assert error["domain"] == "blockstore" and error["status_code"] == 5
    assert "vol-missing-from-node" in error["message"], "the message names the volume"
    sharing = result["sharing"]
    owner, grantee = account["account_id"], other_account["account_id"]
    assert (sharing["share"]["account_id"], sharing["share"]["allow_export"]) == (grantee, False)
    assert sharing["shares"] == [grantee], "ListSnapshotShares from Node"
    assert sharing["owner_account_id"] == owner, "the grantee sees who owns it"
    assert sharing["shared_with_me"] == [result["snapshot"]["snapshot_id"]]
    assert sharing["clone_source"] == result["snapshot"]["snapshot_id"], "the grantee clones it"
    denied = sharing["delete_error"]
    assert denied is not None and denied["code_name"] == "PERMISSION_DENIED"
    assert (denied["reason"], denied["domain"]) == ("NOT_OWNER", "blockstore")
