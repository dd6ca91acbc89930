"""Logs: one line per finished RPC (method, account id, status, bytes, duration) and the
lifecycle lines (started, GC runs, stopped), from a real `blockstore serve` with
`--log-format json`, checked against the calls this test made."""

from __future__ import annotations

import json
import os

import grpc
import pytest

from blockstore.v1 import control_plane_pb2 as cpb
from tests.limits.conftest import CHUNK, Client, block, target
from tests.observe import until
from tests.serverproc import serve


def entries(proc, logger: str) -> list[dict]:
    lines = [json.loads(line) for line in proc.output if line.startswith("{")]
    return [e for e in lines if e["logger"] == logger]


def test_each_finished_rpc_is_one_json_line_with_its_figures(tmp_path):
    proc = serve(tmp_path, "--log-format", "json", "--gc-interval", "0.2")
    client = Client(proc.address, tmp_path)
    try:
        vol = client.volume()
        client.dp.UploadBlocks(iter([target(vol), block(0, os.urandom(CHUNK), CHUNK)]))
        with pytest.raises(grpc.RpcError):
            client.cp.GetVolume(cpb.GetVolumeRequest(volume_id="vol-missing"))
        stranger = Client(proc.address, token="bst_not-a-token")
        with pytest.raises(grpc.RpcError):
            stranger.cp.ListVolumes(cpb.ListVolumesRequest())
        stranger.close()
        until(lambda: entries(proc, "blockstore.gc"), "the periodic GC logged a run")
    finally:
        client.close()
        assert proc.stop() == 0
    rpcs = {e["method"].rpartition("/")[2]: e for e in entries(proc, "blockstore.rpc")}
    assert sorted(rpcs) == ["CreateVolume", "GetVolume", "ListVolumes", "UploadBlocks"]
    upload = rpcs["UploadBlocks"]
    assert upload["method"] == "blockstore.v1.DataPlaneService/UploadBlocks"
    assert (upload["level"], upload["code"], upload["account_id"]) == \
        ("INFO", "OK", client.account_id)
    assert upload["bytes_in"] > CHUNK, "the block's data arrived (wire bytes)"
    assert 0 < upload["bytes_out"] < CHUNK and upload["duration_ms"] > 0
    assert upload["message"].startswith("rpc blockstore.v1.DataPlaneService/UploadBlocks ")
    assert (rpcs["GetVolume"]["code"], rpcs["GetVolume"]["account_id"]) == \
        ("NOT_FOUND", client.account_id)
    assert (rpcs["ListVolumes"]["code"], rpcs["ListVolumes"]["account_id"]) == \
        ("UNAUTHENTICATED", "-"), "a refused caller has no account, and is logged too"

    gc = entries(proc, "blockstore.gc")[0]
    assert gc["message"].startswith("gc: ") and gc["chunks_swept"] == 0, \
        "a GC run says what it did, as fields too"
    lifecycle = [e["message"] for e in entries(proc, "blockstore.server")]
    assert lifecycle[0].startswith("started control+data on 127.0.0.1:"), lifecycle
    assert "tracing off" in lifecycle[0]
    assert lifecycle[-1].endswith(f": {len(rpcs)} RPCs served"), lifecycle
