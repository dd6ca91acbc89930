"""EBS direct on a PostgreSQL manifest: the facade only speaks ManifestTx, so the round
trip and an incremental snapshot work the same (access keys included, migration 0011's
PostgreSQL twin)."""

from __future__ import annotations

import os
import uuid

from tests.backends import db_url
from tests.ebs.conftest import BLOCK, all_blocks, all_changes, client_of, ebs_endpoint, get, put
from tests.serverproc import create_account, serve


def test_round_trip_and_incremental_on_postgresql(tmp_path, pg_cluster):
    url = db_url("postgresql", tmp_path, pg_cluster)
    proc = serve(tmp_path / "data", "--db", url, "--ebs-listen", "127.0.0.1:0")
    try:
        proc.ebs = ebs_endpoint(proc)
        ebs = client_of(proc, create_account(f"pg-{uuid.uuid4().hex[:8]}", db=url))
        base = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
        old = {0: os.urandom(BLOCK), 9: os.urandom(BLOCK)}
        for i, data in old.items():
            put(ebs, base, i, data)
        assert ebs.complete_snapshot(SnapshotId=base, ChangedBlocksCount=2)["Status"] == \
            "completed"
        child = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=base)["SnapshotId"]
        put(ebs, child, 9, b"9" * BLOCK)
        ebs.complete_snapshot(SnapshotId=child, ChangedBlocksCount=1)
        tokens = all_blocks(ebs, child)
        assert get(ebs, child, 0, tokens[0])[0] == old[0]
        assert get(ebs, child, 9, tokens[9])[0] == b"9" * BLOCK
        assert sorted(all_changes(ebs, child, base)) == [9]
    finally:
        proc.stop()
        print("".join(proc.output))
