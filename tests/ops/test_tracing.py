"""Traces: a real `blockstore serve` exports OpenTelemetry spans over OTLP/HTTP when the
standard variables say where, and exports nothing, anywhere, when they do not.

The receiver (tests/ops/otlp.py) is a real HTTP server on loopback that decodes what the
SDK's exporter sends; the calls are real gRPC calls that carry a W3C `traceparent`, so
the server's spans must continue the client's trace.
"""

from __future__ import annotations

import os
import secrets

import blake3
import grpc
import pytest

from blockstore.v1 import control_plane_pb2 as cpb
from services.tracing import exporters_wanted, tracing_from_environment
from tests.hostile.world import read_all
from tests.limits.conftest import CHUNK, Client, block, target
from tests.observe import until
from tests.ops.otlp import OtlpReceiver
from tests.serverproc import ServerProcess, create_account

UPLOAD = "blockstore.v1.DataPlaneService/UploadBlocks"
GET_VOLUME = "blockstore.v1.ControlPlaneService/GetVolume"
DOWNLOAD = "blockstore.v1.DataPlaneService/DownloadBlocks"
DELETE = "blockstore.v1.ControlPlaneService/DeleteVolume"


@pytest.fixture
def no_otel_env(monkeypatch):
    """Whatever the test runner's environment says about OpenTelemetry is not ours."""
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        monkeypatch.delenv(name)


def start_server(tmp_path, env: dict[str, str]) -> ServerProcess:
    return ServerProcess(["serve", "--data-dir", str(tmp_path), "--listen", "127.0.0.1:0"],
                         env=env).start()


def test_rpc_and_store_spans_reach_the_collector_as_one_trace(tmp_path, no_otel_env):
    receiver = OtlpReceiver()
    account = create_account("traced", data_dir=tmp_path)
    proc = start_server(tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                                   "OTEL_SERVICE_NAME": "blockstore-under-test",
                                   "OTEL_BSP_SCHEDULE_DELAY": "50"})
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    datas = [os.urandom(CHUNK), os.urandom(CHUNK)]
    client = Client(proc.address, token=account["token"])
    try:
        vol = client.volume()
        client.dp.stub.UploadBlocks(
            iter([target(vol), block(0, datas[0], CHUNK), block(CHUNK, datas[1], CHUNK)]),
            timeout=30, metadata=(*client.dp.md, ("traceparent",
                                                  f"00-{trace_id}-{parent_id}-01")))
        assert read_all(client.dp, volume_id=vol)[:2 * CHUNK] == b"".join(datas)
        with pytest.raises(grpc.RpcError):
            client.cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id="vol-missing"))
        with pytest.raises(grpc.RpcError):
            client.cp.GetVolume(cpb.GetVolumeRequest(volume_id="vol-missing"))
        until(lambda: receiver.named(GET_VOLUME) and len(receiver.named("ChunkStore.get")) >= 2,
              "the upload's and the download's chunk spans and the GetVolume were exported")
    finally:
        client.close()
        proc.stop()
        receiver.close()

    [rpc] = receiver.named(UPLOAD)
    assert rpc.span.trace_id.hex() == trace_id, "the server continued the client's trace"
    assert rpc.span.parent_span_id.hex() == parent_id
    assert rpc.span.kind == rpc.span.SPAN_KIND_SERVER
    assert rpc.attributes == {"rpc.system": "grpc", "rpc.service": "blockstore.v1.DataPlaneService",
                              "rpc.method": "UploadBlocks", "rpc.grpc.status_code": 0,
                              "rpc.grpc.status": "OK", "blockstore.account_id":
                              account["account_id"]}
    assert rpc.resource["service.name"] == "blockstore-under-test"
    children = [s for s in receiver.spans if s.span.parent_span_id == rpc.span.span_id]
    puts = [s for s in children if s.span.name == "ChunkStore.put"]
    assert sorted(p.attributes["blockstore.chunk.token"] for p in puts) == \
        sorted(blake3.blake3(d).hexdigest() for d in datas), "one span per chunk written"
    assert all(p.attributes["blockstore.chunk.written"] for p in puts)
    assert all(p.span.trace_id.hex() == trace_id for p in children)
    writes = sorted((s for s in children if s.span.name == "ManifestStore.write"),
                    key=lambda s: s.span.start_time_unix_nano)
    # Two write transactions: the stream's record as an active operation, then the commit
    # of its rows, which starts only once every chunk write has ended (durable first).
    assert [w.attributes["blockstore.manifest.outcome"] for w in writes] == ["committed"] * 2
    assert writes[-1].span.start_time_unix_nano >= max(p.span.end_time_unix_nano for p in puts)
    assert writes[-1].span.end_time_unix_nano <= rpc.span.end_time_unix_nano

    [download] = receiver.named(DOWNLOAD)
    gets = [s for s in receiver.named("ChunkStore.get")
            if s.span.parent_span_id == download.span.span_id]
    assert sorted(g.attributes["blockstore.chunk.token"] for g in gets) == \
        sorted(blake3.blake3(d).hexdigest() for d in datas), \
        "each chunk read of the streamed reply is a child of the DownloadBlocks span"

    [delete] = receiver.named(DELETE)
    [rollback] = [s for s in receiver.named("ManifestStore.write")
                  if s.span.parent_span_id == delete.span.span_id]
    assert rollback.attributes["blockstore.manifest.outcome"] == "rolled_back", \
        "a write transaction its body gave up on is not reported as committed"
    assert rollback.span.status.code == rollback.span.status.STATUS_CODE_ERROR

    [missing] = receiver.named(GET_VOLUME)
    assert missing.attributes["rpc.grpc.status"] == "NOT_FOUND"
    assert missing.attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert missing.span.status.code != missing.span.status.STATUS_CODE_ERROR, \
        "a caller's mistake is not a server fault"
    assert missing.span.trace_id.hex() != trace_id, "a call without traceparent starts anew"
    assert [s.span.parent_span_id for s in receiver.named("ManifestStore.read")
            if s.span.trace_id == missing.span.trace_id] == [missing.span.span_id], \
        "the GetVolume's read transaction is its child span"
    exported = b"".join(receiver.bodies)
    assert account["token"].encode() not in exported and b"bst_" not in exported, \
        "the bearer token reached the exporter"


def test_without_otel_variables_nothing_is_exported(tmp_path, no_otel_env):
    # An SDK set up by default would send to its default endpoint, localhost:4318:
    # listen there, and see that nothing comes, even after the shutdown's flush.
    try:
        receiver = OtlpReceiver(port=4318)
    except OSError as err:
        pytest.skip(f"the default OTLP port 4318 is in use here ({err})")
    account = create_account("untraced", data_dir=tmp_path)
    proc = start_server(tmp_path, {})
    client = Client(proc.address, token=account["token"])
    try:
        vol = client.volume()
        client.dp.UploadBlocks(iter([target(vol), block(0, os.urandom(CHUNK), CHUNK)]))
    finally:
        client.close()
        assert proc.stop() == 0
        receiver.close()
    assert receiver.requests == 0, "spans were exported with no OTEL_* variable set"
    assert any("tracing off" in line for line in proc.output), "".join(proc.output)


@pytest.mark.parametrize("environ, wanted", [
    ({}, []),
    ({"OTEL_SERVICE_NAME": "x"}, []),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, ["otlp"]),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1/v1/traces"}, ["otlp"]),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:1"}, []),
    ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:1"}, []),
    ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
])
def test_which_variables_turn_tracing_on(environ, wanted):
    assert exporters_wanted(environ) == wanted
    if not wanted:
        assert tracing_from_environment(environ) is None, "off: no SDK, no exporter"


@pytest.mark.parametrize("environ, named", [
    ({"OTEL_TRACES_EXPORTER": "jaeger"}, "OTEL_TRACES_EXPORTER 'jaeger'"),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
     "OTEL_EXPORTER_OTLP_PROTOCOL 'grpc'"),
])
def test_unsupported_tracing_settings_are_refused_by_name(environ, named):
    with pytest.raises(ValueError, match=named):
        exporters_wanted(environ)
