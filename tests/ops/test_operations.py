"""Operations surface of the server commands: /metrics, --log-format json, --config.

Real `blockstore serve` processes on loopback; metrics are scraped over real HTTP and the
counters are checked against the calls this test made (exact values, by status code).
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request

import grpc
import pytest

from blockstore.v1 import control_plane_pb2 as cpb
from services import cli, server as server_module
from services.cli import _parse
from tests.limits.conftest import CHUNK, Client, block, target
from tests.observe import until
from tests.serverproc import blockstore_cmd, serve


def metrics_url(proc) -> str:
    def found():
        for line in proc.output:
            m = re.search(r"metrics on (http://\S+/metrics)", line)
            if m:
                return m.group(1)
        return None
    return until(found, "the server printed its metrics address")


def scrape(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url, timeout=10) as reply:
        assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = reply.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def rpc(method: str, code: str, service: str = "ControlPlaneService") -> str:
    return f'blockstore_rpc_total{{code="{code}",method="{method}",service="{service}"}}'


@pytest.fixture
def server(tmp_path):
    proc = serve(tmp_path, "--metrics-listen", "127.0.0.1:0", "--log-format", "json")
    proc.data_dir = tmp_path
    yield proc
    proc.stop()


def test_metrics_count_calls_by_status_and_upload_figures(server):
    url = metrics_url(server)
    before = scrape(url)
    assert before["blockstore_bytes_received_total"] == 0
    client = Client(server.address, server.data_dir)
    try:
        vol = client.volume()
        with pytest.raises(grpc.RpcError):
            client.cp.GetVolume(cpb.GetVolumeRequest(volume_id="vol-missing"))
        anonymous = Client(server.address, token="bst_not-a-token")
        with pytest.raises(grpc.RpcError):
            anonymous.cp.GetVolume(cpb.GetVolumeRequest(volume_id=vol))
        anonymous.close()
        data = os.urandom(CHUNK)
        client.dp.UploadBlocks(iter([target(vol), block(0, data, CHUNK)]))
        client.dp.UploadBlocks(iter([target(vol), block(CHUNK, data, CHUNK)]))   # same chunk
    finally:
        client.close()
    after = scrape(url)
    assert after[rpc("CreateVolume", "OK")] == 1
    assert after[rpc("GetVolume", "NOT_FOUND")] == 1
    assert after[rpc("GetVolume", "UNAUTHENTICATED")] == 1, "auth failures are counted too"
    assert after[rpc("UploadBlocks", "OK", "DataPlaneService")] == 2
    assert after["blockstore_bytes_received_total"] == 2 * CHUNK
    assert 0 < after["blockstore_bytes_stored_total"] <= CHUNK + 4096, \
        "the second upload of the same chunk stores nothing"
    assert after["blockstore_dedup_hits_total"] == 1


def test_metrics_endpoint_answers_only_get_metrics(server):
    url = metrics_url(server)
    root = url.rsplit("/", 1)[0] + "/"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(root, timeout=10)
    assert missing.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as post:
        urllib.request.urlopen(urllib.request.Request(url, data=b"x", method="POST"), timeout=10)
    assert post.value.code == 405


def test_json_logs_are_one_object_per_line(server):
    server.stop()
    logs = [line for line in server.output if line.startswith("{")]
    assert logs, f"a json-logging server logs its shutdown: {server.output}"
    for line in logs:
        entry = json.loads(line)
        assert {"ts", "level", "logger", "message"} <= entry.keys()
    assert any("shutting down" in json.loads(line)["message"] for line in logs)
    assert not [line for line in server.output
                if re.match(r"\d{4}-\d\d-\d\d .* (INFO|WARNING|ERROR) ", line)], \
        "no text-format log line next to the json ones"


def test_flags_beat_environment_beat_config_file(tmp_path, monkeypatch):
    config = tmp_path / "blockstore.toml"
    config.write_text('listen = "127.0.0.1:7001"\ngc-interval = 600\nno_fsync = true\n'
                      f'data-dir = "{tmp_path / "d"}"\n')
    args = _parse(["serve", "--config", str(config)])
    assert (args.listen, args.gc_interval, args.no_fsync) == ("127.0.0.1:7001", 600.0, True)
    monkeypatch.setenv("BLOCKSTORE_GC_INTERVAL", "30")
    monkeypatch.setenv("BLOCKSTORE_NO_FSYNC", "false")
    args = _parse(["serve", "--config", str(config), "--listen", "127.0.0.1:7002"])
    assert (args.listen, args.gc_interval, args.no_fsync) == ("127.0.0.1:7002", 30.0, False)
    assert str(args.data_dir) == str(tmp_path / "d")


def test_a_server_runs_from_a_config_file_alone(tmp_path):
    config = tmp_path / "blockstore.toml"
    config.write_text(f'data-dir = "{tmp_path / "data"}"\nlisten = "127.0.0.1:0"\n'
                      'metrics-listen = "127.0.0.1:0"\n')
    from tests.serverproc import ServerProcess
    proc = ServerProcess(["serve", "--config", str(config)]).start()
    try:
        assert scrape(metrics_url(proc))["blockstore_bytes_stored_total"] == 0
        assert (tmp_path / "data" / "manifest.db").exists(), "data-dir came from the file"
    finally:
        proc.stop()


BAD_FILES = [
    ("listne = 'x:1'\n", "unknown setting 'listne'"),
    ("gc-interval = 'soon'\n", "gc-interval in"),
    ("listen = \n", "not valid TOML"),
    # Each of these once got past the checks: the stores were created, then the start
    # failed (or the message named no setting).
    ("log-level = 'verbose'\n", "log-level in"),
    ("metrics-listen = 'nope'\n", "--metrics-listen 'nope'"),
    ("ebs-listen = 'nope'\n", "--ebs-listen 'nope'"),
    ("chunks = 's3://b?endpoint=http://127.0.0.1:1&secret=1'\n", "chunk store URL"),
    ("tls-cert = 'missing.crt'\ntls-key = 'missing.key'\n", "--tls-cert"),
    ("grace = -1\n", "--grace"),
]


def test_bad_config_stops_the_console_script_with_exit_2(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(BAD_FILES[0][0])
    done = blockstore_cmd("serve", "--config", str(config), "--data-dir", str(tmp_path / "d"),
                          check=False, timeout=60)
    assert done.returncode == 2 and BAD_FILES[0][1] in done.stderr, done.stderr
    assert not (tmp_path / "d").exists(), "nothing was created by a refused start"


@pytest.mark.parametrize("content, named", BAD_FILES)
def test_bad_config_is_refused_naming_the_setting(tmp_path, monkeypatch, capsys, content,
                                                  named):
    """In-process (a subprocess each cost ~2 s): reaching serve_forever, which opens the
    stores, is the failure."""
    async def started(*_args, **_kwargs):
        raise AssertionError("the start got past the checks and would open the stores")
    monkeypatch.setattr(server_module, "serve_forever", started)
    monkeypatch.setattr(cli, "configure_logging", lambda *_args: None)   # not under test
    config = tmp_path / "bad.toml"
    config.write_text(content)
    assert cli.main(["serve", "--config", str(config), "--data-dir", str(tmp_path / "d")]) == 2
    assert named in capsys.readouterr().err
    assert not (tmp_path / "d").exists(), "nothing was created by a refused start"
