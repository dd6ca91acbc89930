"""EBS direct on a `data-plane` process beside a separate `control-plane` process (one
database, one chunk store), many concurrent puts, and the flag's placement rules."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import grpc

from blockstore.urls import file_url, sqlite_url
from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc
from tests.conftest import AuthedStub
from tests.ebs.conftest import BLOCK, all_blocks, client_of, ebs_endpoint, get, put
from tests.serverproc import BLOCKSTORE, REPO, ServerProcess, create_account


async def test_data_plane_process_serves_ebs_and_the_control_plane_sees_it(tmp_path):
    db = sqlite_url(tmp_path / "manifest.db")
    control = ServerProcess(["control-plane", "--db", db, "--listen", "127.0.0.1:0"]).start()
    data = ServerProcess(["data-plane", "--db", db, "--chunks", file_url(tmp_path / "chunks"),
                          "--listen", "127.0.0.1:0", "--ebs-listen", "127.0.0.1:0"])
    try:
        data.start()
        data.ebs = ebs_endpoint(data)
        account = create_account("ebs-split", db=db)
        ebs = client_of(data, account)
        sid = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
        blocks = {i: os.urandom(BLOCK) for i in range(32)}
        with ThreadPoolExecutor(8) as pool:       # EBS clients put blocks in parallel
            list(pool.map(lambda i: put(client_of(data, account), sid, i, blocks[i]),
                          blocks))
        ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=len(blocks))
        listed = all_blocks(ebs, sid)
        assert sorted(listed) == sorted(blocks), "every concurrent put committed"
        for i in (0, 17, 31):
            assert get(ebs, sid, i, listed[i])[0] == blocks[i]
        async with grpc.aio.insecure_channel(control.address) as channel:
            cp = AuthedStub(control_plane_pb2_grpc.ControlPlaneServiceStub(channel),
                            account["token"])
            snap = (await cp.GetSnapshot(cpb.GetSnapshotRequest(snapshot_id=sid))).snapshot
        assert snap.state == 2 and snap.size_bytes == 1 << 30, \
            "the control-plane process sees the EBS snapshot completed"
    finally:
        assert data.stop() == 0, "".join(data.output)
        assert control.stop() == 0, "".join(control.output)


def test_ebs_listen_needs_the_data_plane(tmp_path):
    done = subprocess.run([*BLOCKSTORE, "control-plane", "--db",
                           sqlite_url(tmp_path / "m.db"), "--listen", "127.0.0.1:0",
                           "--ebs-listen", "127.0.0.1:0"], capture_output=True, text=True,
                          cwd=REPO, timeout=60)
    assert done.returncode == 2, "a control-plane process has no chunk store to serve blocks"
    assert "unrecognized arguments: --ebs-listen" in done.stderr
