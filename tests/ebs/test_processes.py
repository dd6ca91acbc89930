"""EBS direct on a `data-plane` process beside a separate `control-plane` process (one
database, one chunk store), many concurrent puts, and the flags' placement rules: EBS
needs the data plane, and plain HTTP off loopback only when asked for by name."""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from blockstore.urls import file_url, sqlite_url
from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import control_plane_pb2_grpc
from tests.conftest import AuthedStub
from tests.ebs.conftest import BLOCK, all_blocks, client_of, ebs_endpoint, get, put
from services.config import check_ebs_transport
from tests.serverproc import BLOCKSTORE, REPO, ServerProcess, blockstore_cmd, create_account


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


def test_plain_http_off_loopback_is_refused_before_any_store_is_made(tmp_path):
    # 192.0.2.1 (TEST-NET-1) is no address of this host: without the check the start
    # would fail on the bind (exit 1), never listen beyond loopback.
    done = blockstore_cmd("serve", "--data-dir", str(tmp_path / "d"), "--listen",
                          "127.0.0.1:0", "--ebs-listen", "192.0.2.1:0", check=False,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    assert "--ebs-listen 192.0.2.1:0: not a loopback address" in done.stderr
    assert "--ebs-plain-http" in done.stderr and "--tls-cert" in done.stderr
    assert not (tmp_path / "d" / "manifest.db").exists(), "refused before any store"


def test_plain_http_off_loopback_is_allowed_when_asked_for_by_name(tmp_path):
    base = ["serve", "--data-dir", str(tmp_path), "--ebs-listen", "0.0.0.0:8080",
            "--print-config", "json"]
    assert blockstore_cmd(*base, check=False).returncode == 2, "refused without the flag"
    for how in ("flag", "env", "file"):
        extra, env = [], {}
        if how == "flag":
            extra = ["--ebs-plain-http"]
        elif how == "env":
            env = {"BLOCKSTORE_EBS_PLAIN_HTTP": "true"}
        else:
            (tmp_path / "c.toml").write_text("ebs-plain-http = true\n")
            extra = ["--config", str(tmp_path / "c.toml")]
        shown = json.loads(blockstore_cmd(*base, *extra, env=env).stdout)
        assert shown["settings"]["ebs-plain-http"] is True, how
        assert shown["settings"]["ebs-listen"] == "0.0.0.0:8080"
        assert "EBS direct on 0.0.0.0:8080: plain http" in shown["notes"], shown["notes"]


@pytest.mark.parametrize("listen,tls,plain,ok", [
    ("127.0.0.1:1", False, False, True), ("127.9.9.9:1", False, False, True),
    ("[::1]:1", False, False, True), ("localhost:1", False, False, True),
    ("0.0.0.0:1", False, False, False), ("[::]:1", False, False, False),
    ("10.1.2.3:1", False, False, False), ("ebs.example:1", False, False, False),
    ("0.0.0.0:1", True, False, True), ("0.0.0.0:1", False, True, True),
])
def test_which_ebs_listen_addresses_may_speak_plain_http(listen, tls, plain, ok):
    try:
        check_ebs_transport(listen, tls, plain)
    except ValueError:
        assert not ok, f"{listen} tls={tls} plain={plain} refused"
    else:
        assert ok, f"{listen} tls={tls} plain={plain} accepted"
